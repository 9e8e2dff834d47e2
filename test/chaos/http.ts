/** The chaos run's plumbing: HTTP calls retried like a client's, console capture, in-memory storage. */
import { appendFileSync } from 'node:fs';
import { format } from 'node:util';
import type { Message } from '../../web/sdk/index.ts';
import type { StoredMessage } from './checker.ts';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export type Json = Record<string, unknown>;

/** One HTTP call with a time limit; network errors come back as status 0. */
export const call = async (
  base: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: Json }> => {
  try {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Json };
  } catch {
    return { status: 0, body: {} };
  }
};

/** `task(0 … count-1)`, at most `limit` at once. */
export const mapInOrder = async (
  count: number,
  limit: number,
  task: (index: number) => Promise<void>,
): Promise<void> => {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
};

const retryable = (status: number): boolean => status === 0 || status === 429 || status >= 500;

/** A call retried (backoff with jitter) while it fails retryably; `onRetry` counts the repeats. */
export const callRetried = async (
  base: string,
  method: string,
  path: string,
  token: string | undefined,
  body: unknown,
  random: () => number,
  onRetry: () => void = () => {},
  attempts = 12,
): Promise<{ status: number; body: Json }> => {
  for (let attempt = 0; ; attempt++) {
    const answer = await call(base, method, path, token, body);
    if (!retryable(answer.status) || attempt + 1 >= attempts) return answer;
    onRetry();
    await sleep(Math.min(3_000, 200 * 2 ** attempt) * (0.5 + random() / 2));
  }
};

export const ok = async (answer: Promise<{ status: number; body: Json }>, what: string): Promise<Json> => {
  const { status, body } = await answer;
  if (status < 200 || status > 299) throw new Error(`${what} → ${status} ${JSON.stringify(body)}`);
  return body;
};

/** Console output of everything in this process, into a file (or nowhere) while the run lasts. */
export const captureConsole = (file: string | undefined): { lines: () => number; restore: () => void } => {
  const methods = ['log', 'info', 'warn', 'error', 'debug'] as const;
  const saved = methods.map((name) => console[name]);
  let lines = 0;
  for (const name of methods)
    console[name] = (...args: unknown[]) => {
      lines += 1;
      if (file) appendFileSync(file, `${format(...args)}\n`);
    };
  return {
    lines: () => lines,
    restore: () => methods.forEach((name, index) => (console[name] = saved[index] as never)),
  };
};

export const memoryStorage = () => {
  const items = new Map<string, string>();
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    removeItem: (key: string) => void items.delete(key),
  };
};

/** Every message of a chat (GET …/messages?after=, page by page), and its lastSeq read first. */
export const readChat = async (
  base: string,
  chatId: string,
  token: string,
  after: number,
  random: () => number,
): Promise<{ messages: (StoredMessage & { id: string })[]; lastSeq?: number }> => {
  const messages: (StoredMessage & { id: string })[] = [];
  for (let cursor = after; ;) {
    const page = await ok(
      callRetried(
        base,
        'GET',
        `/v1/chats/${chatId}/messages?after=${cursor}&limit=100`,
        token,
        undefined,
        random,
      ),
      `GET messages of ${chatId}`,
    );
    const items = (page.items ?? []) as Message[];
    for (const item of items)
      messages.push({
        id: item.messageId,
        seq: item.seq,
        clientMessageId: item.clientMessageId,
        void: item.system?.kind === 'void',
        committedAt: Date.parse(item.createdAt),
      });
    if (items.length === 0) return { messages };
    cursor = items.at(-1)?.seq ?? cursor;
  }
};
