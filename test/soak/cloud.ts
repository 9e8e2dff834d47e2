/**
 * The cloud a soak runs against: a local cloud forked for the soak (test/soak/cloud-process.ts), whose
 * heap, handles and error logs the soak reads, or one already running (`npm start`), of which it only
 * knows the URLs (no heap, handle or log figures then).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CloudMessage, CloudRequest, CloudSample } from './cloud-process.ts';

export type { CloudSample } from './cloud-process.ts';

export interface SoakCloud {
  readonly urls: { readonly http: string; readonly dynamodb: string };
  readonly tableName: string;
  /** Heap and handles after a full GC; undefined for a cloud the soak did not start. */
  sample(): Promise<CloudSample | undefined>;
  /** Resolves once the stream consumers have processed everything so far (a forked cloud only). */
  idle(): Promise<void>;
  /** ERROR-level lines logged so far (handlers, gateways, the stream poller). */
  readonly errors: readonly string[];
  readonly warnings: number;
  stop(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./cloud-process.ts', import.meta.url));

/** An already running local cloud (`npm start`): its HTTP API and DynamoDB endpoints, table `chat-local`. */
export const attachCloud = (http: string, dynamodb: string, tableName = 'chat-local'): SoakCloud => ({
  urls: { http, dynamodb },
  tableName,
  sample: async () => undefined,
  idle: async () => {},
  errors: [],
  warnings: 0,
  stop: async () => {},
});

/** Forks a local cloud on free ports; rejects if it does not get ready within `readyMs`. */
export const forkCloud = async (readyMs = 90_000): Promise<SoakCloud> => {
  const child: ChildProcess = fork(CHILD, [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' },
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4_000);
  });
  const errors: string[] = [];
  let warnings = 0;
  const replies = new Map<number, (sample?: CloudSample) => void>();
  let nextId = 0;
  const ready = new Promise<Extract<CloudMessage, { type: 'ready' }>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the local cloud did not start:\n${stderr}`)), readyMs);
    child.on('message', (message: CloudMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message);
      }
      if (message.type === 'failed') {
        clearTimeout(timer);
        reject(new Error(`the local cloud did not start: ${message.error}`));
      }
      if (message.type === 'log' && message.level === 'error') errors.push(message.text);
      if (message.type === 'log' && message.level === 'warn') warnings += 1;
      if (message.type === 'reply') {
        replies.get(message.id)?.(message.sample);
        replies.delete(message.id);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the local cloud exited (${String(code)}):\n${stderr}`));
      for (const resolveReply of replies.values()) resolveReply();
      replies.clear();
    });
  });
  const ask = (type: CloudRequest['type']): Promise<CloudSample | undefined> =>
    child.exitCode !== null || !child.connected
      ? Promise.resolve(undefined)
      : new Promise((resolve) => {
          const id = nextId++;
          replies.set(id, resolve);
          child.send({ id, type } satisfies CloudRequest);
        });
  let message: Extract<CloudMessage, { type: 'ready' }>;
  try {
    message = await ready;
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    urls: { http: message.urls.http, dynamodb: message.urls.dynamodb },
    tableName: message.tableName,
    sample: () => ask('sample'),
    idle: async () => void (await ask('idle')),
    errors,
    get warnings() {
      return warnings;
    },
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await Promise.race([ask('stop'), new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
};
