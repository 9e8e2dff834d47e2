/**
 * One WebSocket connection: open timeout, request/reply frames matched by `requestId`, an application
 * ping whose missing pong ends the connection, and a planned end before the 2-hour cap. It never
 * reconnects by itself: whoever owns it dials the next one (see realtime.ts).
 */
import { ApiError, retryAfterOf } from './http.ts';
import type { AnyEnvelope, Timing, WebSocketFactory, WebSocketLike } from './types.ts';

export type CloseReason = 'closed' | 'dropped' | 'open-timeout' | 'no-pong' | 'planned';

export interface ConnectionHandlers {
  open(): void;
  envelope(envelope: AnyEnvelope): void;
  /** Called once, unless close() ended the connection. `opened`: the socket had opened. */
  end(reason: CloseReason, opened: boolean): void;
}

interface Pending {
  resolve(envelope: AnyEnvelope): void;
  reject(error: unknown): void;
  timer: ReturnType<typeof setTimeout>;
}

/** The HTTP status of each error code (docs/protocol.md), so socket and HTTP errors compare alike. */
const STATUS: Record<string, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  internal: 500,
  busy: 503,
};

let counter = 0;
export const randomId = (prefix: string): string =>
  `${prefix}-${globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`}-${++counter}`;

export class Connection {
  readonly #socket: WebSocketLike;
  readonly #pending = new Map<string, Pending>();
  readonly #timers: ReturnType<typeof setTimeout>[] = [];
  #ping: ReturnType<typeof setInterval> | undefined;
  #opened = false;
  #ended = false;

  constructor(
    url: string,
    WebSocket: WebSocketFactory,
    private readonly timing: Timing,
    private readonly handlers: ConnectionHandlers,
  ) {
    const socket = new WebSocket(url);
    this.#socket = socket;
    this.#timers.push(setTimeout(() => this.#opened || this.#end('open-timeout'), timing.openTimeoutMs));
    socket.onopen = () => {
      if (this.#ended) return;
      this.#opened = true;
      this.#ping = setInterval(() => {
        this.request({ action: 'ping' }).catch(() => this.#end('no-pong'));
      }, timing.pingMs);
      this.#timers.push(setTimeout(() => this.#end('planned'), timing.maxConnectionMs));
      handlers.open();
    };
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onerror = () => {}; // a close follows; the `ws` package throws on unhandled errors
    socket.onclose = () => this.#end('dropped');
  }

  get opened(): boolean {
    return this.#opened && !this.#ended;
  }

  /** Sends a frame; resolves with its `ack`/`pong`, rejects with its `error`, a timeout or the end. */
  request(frame: Record<string, unknown>, timeoutMs = this.timing.requestTimeoutMs): Promise<AnyEnvelope> {
    if (!this.opened) return Promise.reject(new ApiError(0, 'not_connected', 'the socket is not open'));
    const requestId = randomId('rq');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new ApiError(0, 'timeout', `no reply to ${String(frame.action)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
      try {
        this.#socket.send(JSON.stringify({ ...frame, requestId }));
      } catch (error) {
        this.#settle(requestId)?.reject(error);
      }
    });
  }

  /** Ends the connection for good; no handler is called. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#cleanup();
    try {
      this.#socket.close(1000);
    } catch {
      // already closing
    }
  }

  #settle(requestId: string): Pending | undefined {
    const pending = this.#pending.get(requestId);
    if (pending) {
      this.#pending.delete(requestId);
      clearTimeout(pending.timer);
    }
    return pending;
  }

  #receive(data: unknown): void {
    if (this.#ended) return;
    let envelope: AnyEnvelope & { requestId?: string; data?: unknown };
    try {
      envelope = JSON.parse(String(data)) as typeof envelope;
    } catch {
      return;
    }
    const type = envelope.type;
    const pending =
      envelope.requestId && (type === 'ack' || type === 'pong' || type === 'error')
        ? this.#settle(envelope.requestId)
        : undefined;
    if (!pending) return this.handlers.envelope(envelope);
    if (type !== 'error') return pending.resolve(envelope);
    const error = (envelope.data ?? {}) as {
      code?: string;
      message?: string;
      details?: unknown;
      retryAfter?: unknown;
    };
    const code = error.code ?? 'error';
    pending.reject(
      new ApiError(
        STATUS[code] ?? 400,
        code,
        error.message ?? 'request failed',
        error.details,
        retryAfterOf(error),
      ),
    );
  }

  #cleanup(): void {
    clearInterval(this.#ping);
    for (const timer of this.#timers) clearTimeout(timer);
    for (const id of [...this.#pending.keys()]) {
      this.#settle(id)?.reject(new ApiError(0, 'not_connected', 'socket closed before replying'));
    }
  }

  #end(reason: CloseReason): void {
    if (this.#ended) return;
    const opened = this.#opened;
    this.close();
    this.handlers.end(reason, opened);
  }
}
