/** Authenticated API calls: the token is read before each call; an expired one is renewed once. */
import type { Request } from './delivery.ts';
import { isExpired, requestJson } from './http.ts';
import type { ChatClientOptions } from './types.ts';

/**
 * A `Request` against `httpUrl` (no trailing slash); on a 401 saying the token expired, `renewToken` is
 * called once (shared by the calls that failed with the same token) and the call retried.
 */
export const authorizedRequest = (
  options: Pick<ChatClientOptions, 'httpUrl' | 'token' | 'renewToken' | 'fetch'>,
  requestTimeoutMs: number,
): Request => {
  let renewed: string | undefined;
  let renewal: Promise<string> | undefined;
  return async <T>(
    method: string,
    path: string,
    body?: unknown,
    call: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> => {
    const send = (token: string): Promise<T> =>
      requestJson<T>(`${options.httpUrl}${path}`, {
        method,
        token,
        body,
        fetch: options.fetch,
        timeoutMs: call.timeoutMs ?? requestTimeoutMs,
        signal: call.signal,
      });
    const { token } = options;
    const used = renewed ?? (typeof token === 'function' ? await token() : token);
    try {
      return await send(used);
    } catch (error) {
      const renew = options.renewToken;
      if (!renew || !isExpired(error)) throw error;
      if (renewed === undefined || renewed === used) {
        renewal ??= renew().finally(() => (renewal = undefined));
        renewed = await renewal;
      }
      return send(renewed);
    }
  };
};
