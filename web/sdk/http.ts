/** JSON over HTTP: every call has a timeout and an abort; non-2xx answers become an ApiError. */
import type { RuntimeConfig, VisitorSession, WidgetSettings } from './types.ts';

/** An error answered by the API (HTTP `{ error }` body or a socket `error` envelope), or a local one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** How long the server asked to wait before trying again (429 `retryAfter`, seconds on the wire). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server's `retryAfter` (seconds) of an error body or frame, in ms (at most an hour; 0 if none). */
export const retryAfterOf = (error: { retryAfter?: unknown }): number =>
  Math.min(Number(error.retryAfter) || 0, 3600) * 1000;

/** The pause before the next attempt: the backoff, or longer when the server said how long to wait. */
export const waitBefore = (error: unknown, backoffMs: number): number =>
  Math.max(backoffMs, (error as ApiError | undefined)?.retryAfterMs || 0);

const RETRYABLE = ['busy', 'internal', 'rate_limited', 'timeout', 'network', 'not_connected'];

/** Network failures, timeouts, 408, 429 and 5xx are worth retrying; a refused request is not. */
export const isRetryable = (error: unknown): boolean =>
  !(error instanceof ApiError) ||
  error.status >= 500 ||
  error.status === 408 ||
  error.status === 429 ||
  RETRYABLE.includes(error.code);

/** A 401 that says the token expired: worth one renewal. */
export const isExpired = (error: unknown): boolean =>
  error instanceof ApiError &&
  error.status === 401 &&
  (/expired/i.test(error.message) || error.code === 'token_expired');

export interface RequestOptions {
  method?: string;
  token?: string | undefined;
  body?: unknown;
  fetch?: typeof fetch | undefined;
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

/** `?a=1&b=2` of the defined values (empty when there are none). */
export const query = (params: Record<string, string | number | undefined> = {}): string => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/** One JSON request, aborted by `signal` or after `timeoutMs` (default 15 s). */
export const requestJson = async <T>(url: string, options: RequestOptions = {}): Promise<T> => {
  const { method = 'GET', token, body, timeoutMs = 15_000, signal } = options;
  const fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis);
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const timer = setTimeout(abort, timeoutMs);
  if (signal?.aborted) abort();
  signal?.addEventListener('abort', abort);
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let text: string;
  let response: Response;
  try {
    response = await fetchImpl(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: controller.signal,
    });
    text = await response.text();
  } catch (error) {
    if (signal?.aborted) throw new ApiError(0, 'aborted', 'the request was aborted');
    if (controller.signal.aborted) throw new ApiError(0, 'timeout', `no answer within ${timeoutMs} ms`);
    throw new ApiError(0, 'network', error instanceof Error ? error.message : String(error));
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', abort);
  }
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : undefined;
  } catch {
    value = undefined;
  }
  if (!response.ok) {
    const error = isObject(value) && isObject(value.error) ? value.error : {};
    throw new ApiError(
      response.status,
      typeof error.code === 'string' ? error.code : `http_${response.status}`,
      typeof error.message === 'string' ? error.message : text,
      error.details,
      retryAfterOf(error),
    );
  }
  return value as T;
};

const post = <T>(url: string, body: unknown): Promise<T> => requestJson<T>(url, { method: 'POST', body });
/** The API's base URL without a trailing slash. */
export const base = (httpUrl: string): string => httpUrl.replace(/\/$/, '');

/** The web apps' runtime configuration. */
export const loadConfig = (url = '/config.json'): Promise<RuntimeConfig> => requestJson(url);

/** POST /v1/visitors: an anonymous visitor of a tenant. */
export const createVisitor = (
  httpUrl: string,
  tenantId: string,
  profile: { name?: string; email?: string } = {},
): Promise<VisitorSession> => post(`${base(httpUrl)}/v1/visitors`, { tenantId, ...profile });

/** POST /v1/visitors/refresh: a new token for the same visitor. */
export const refreshVisitor = (httpUrl: string, refreshToken: string): Promise<VisitorSession> =>
  post(`${base(httpUrl)}/v1/visitors/refresh`, { refreshToken });

/** GET /v1/tenants/{tenantId}/widget (public). */
export const getWidgetSettings = (httpUrl: string, tenantId: string): Promise<WidgetSettings> =>
  requestJson(`${base(httpUrl)}/v1/tenants/${encodeURIComponent(tenantId)}/widget`);

/** POST /v1/dev/tokens (local cloud only). */
export const devToken = (
  httpUrl: string,
  claims: { tenantId: string; userId: string; role: string; name?: string },
): Promise<{ token: string; expiresAt: string }> => post(`${base(httpUrl)}/v1/dev/tokens`, claims);
