/** JSON over HTTP with fetch: the calls the benchmark makes to the local cloud's HTTP API. */
import { isRecord } from './util.ts';

export interface JsonResponse {
  readonly status: number;
  /** The parsed body; undefined when it is not JSON. */
  readonly body: unknown;
}

/** One call; a time-out or a network error rejects, any HTTP status resolves. */
export const callJson = async (
  method: 'GET' | 'POST',
  url: string,
  options: { readonly body?: unknown; readonly token?: string | undefined; readonly timeoutMs?: number } = {},
): Promise<JsonResponse> => {
  const response = await fetch(url, {
    method,
    headers: {
      ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
};

/** A call that must succeed (2xx with a JSON object): its body; otherwise it throws, naming the status. */
export const okJson = async (
  method: 'GET' | 'POST',
  url: string,
  options: { readonly body?: unknown; readonly token?: string | undefined } = {},
): Promise<Record<string, unknown>> => {
  const { status, body } = await callJson(method, url, options);
  if (status < 200 || status > 299 || !isRecord(body)) {
    throw new Error(`${method} ${new URL(url).pathname} → ${status} ${JSON.stringify(body)}`);
  }
  return body;
};

export const postJson = (url: string, body: unknown, token?: string): Promise<Record<string, unknown>> =>
  okJson('POST', url, { body, token });

export const stringField = (record: Record<string, unknown>, name: string): string => {
  const value = record[name];
  if (typeof value !== 'string') throw new Error(`expected a string ${name} in ${JSON.stringify(record)}`);
  return value;
};
