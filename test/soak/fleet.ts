/**
 * The soak's sockets: plain `ws` clients that speak the public contract the way the browser SDK does —
 * a ticket per connection, subscribe and wait for the ack, then catch up with `after=` — and remember
 * only what the checks need (the seqs each one holds per chat, its connection ids), so that a thousand
 * of them stay cheap.
 */
import WebSocket from 'ws';

export interface Envelope {
  type: string;
  chatId?: string;
  seq?: number;
  requestId?: string;
  data?: Record<string, unknown>;
}

/** HTTP calls of the public API, with the status (a soak counts refusals rather than throwing). */
export const http = (baseUrl: string) => {
  const call = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
  };
  const ok = async <T = Record<string, unknown>>(
    method: string,
    path: string,
    token?: string,
    body?: unknown,
  ): Promise<T> => {
    const response = await call<T>(method, path, token, body);
    if (response.status < 200 || response.status > 299)
      throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(response.body)}`);
    return response.body;
  };
  return { call, ok };
};
export type Http = ReturnType<typeof http>;

/** Why an open failed: the ticket request's or the upgrade's HTTP status (0: no answer). */
export class OpenError extends Error {
  constructor(
    readonly stage: 'ticket' | 'upgrade',
    readonly status: number,
    /** With no answer: why (the fetch error's cause code or message). */
    readonly why?: string,
  ) {
    super(`${stage} failed${status ? ` with ${status}` : why ? ` (${why})` : ''}`);
  }
}

/** What a failed fetch says about why: undici's cause code (UND_ERR_CONNECT_TIMEOUT, ECONNRESET…). */
const fetchFailure = (error: unknown): string => {
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (typeof cause?.code === 'string') return cause.code;
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer within 60 s';
  return String(error instanceof Error ? error.message : error).slice(0, 40);
};

let requests = 0;

export class SoakSocket {
  /** Seqs this socket holds per chat (pushed, acked or caught up). */
  readonly held = new Map<string, Set<number>>();
  /** Every connection id this socket has had, the current one last. */
  readonly connectionIds: string[] = [];
  /** The socket has stayed open since the soak's start (its `held` comes from pushes alone). */
  unbroken = true;
  pushes = 0;
  /** Times the server closed this socket (deliver or disconnect, a gateway going away). */
  serverCloses = 0;
  /** Some task (a send, a churn close, the storm) is using the socket; a reconnect waits for it. */
  busy = false;
  /** Called when the server closes an open socket (the soak reconnects it as the SDK would). */
  onServerClose: ((socket: SoakSocket) => void) | undefined;
  #ws: WebSocket | undefined;
  /** Sockets `close()` closed (any other close is the server's). */
  #closing = new WeakSet<WebSocket>();
  #pending = new Map<string, { resolve(e: Envelope): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  #onReady: ((connectionId: string) => void) | undefined;
  #current: string | undefined;

  constructor(
    readonly index: number,
    readonly userId: string,
    readonly token: string,
    readonly chatIds: readonly string[],
  ) {
    for (const chatId of chatIds) this.held.set(chatId, new Set());
  }

  get open(): boolean {
    return this.#ws?.readyState === WebSocket.OPEN;
  }

  /** The current connection's id, once its `connection.ready` has arrived. */
  get connectionId(): string | undefined {
    return this.#current;
  }

  /**
   * Ticket and upgrade: resolves once the socket is open, as the SDK counts it (it never waits for
   * `connection.ready`; the id that envelope carries is recorded whenever it arrives).
   */
  async connect(api: Http, openTimeoutMs = 10_000): Promise<void> {
    const ticket = await api
      .call<{ ticket: string; url: string }>('POST', '/v1/realtime/tickets', this.token)
      .catch((error: unknown) => ({ status: 0, body: undefined, why: fetchFailure(error) }));
    if (ticket.status !== 201 && ticket.status !== 200)
      throw new OpenError('ticket', ticket.status, 'why' in ticket ? ticket.why : undefined);
    const { url, ticket: value } = ticket.body as { ticket: string; url: string };
    const ws = new WebSocket(`${url}?ticket=${encodeURIComponent(value)}`);
    this.#ws = ws;
    this.#current = undefined;
    this.#onReady = (connectionId) => {
      this.#current = connectionId;
      this.connectionIds.push(connectionId);
    };
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new OpenError('upgrade', 0, `not open within ${openTimeoutMs / 1000} s`)),
        openTimeoutMs,
      );
      ws.once('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.once('unexpected-response', (_request, response) => {
        clearTimeout(timer);
        reject(new OpenError('upgrade', response.statusCode ?? 0));
        response.resume();
      });
      ws.once('error', (error: Error & { code?: string }) => {
        clearTimeout(timer);
        reject(new OpenError('upgrade', 0, error.code ?? error.message.slice(0, 40)));
      });
      ws.once('close', () => {
        clearTimeout(timer);
        reject(new OpenError('upgrade', 0, 'closed'));
      });
    });
    ws.on('message', (data) => this.#receive(String(data)));
    ws.on('error', () => {});
    ws.once('close', () => this.#failPending());
    try {
      await ready;
    } catch (error) {
      ws.terminate();
      throw error;
    }
    // Closed while open, not by `close()`: the server's doing.
    ws.once('close', () => {
      if (this.#closing.has(ws)) return;
      this.serverCloses += 1;
      this.unbroken = false;
      if (this.#ws === ws) this.onServerClose?.(this);
    });
  }

  #receive(text: string): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(text) as Envelope;
    } catch {
      return;
    }
    if (envelope.type === 'connection.ready' && typeof envelope.data?.connectionId === 'string') {
      this.#onReady?.(envelope.data.connectionId);
      this.#onReady = undefined;
      return;
    }
    const pending = envelope.requestId ? this.#pending.get(envelope.requestId) : undefined;
    if (pending && envelope.requestId) {
      this.#pending.delete(envelope.requestId);
      clearTimeout(pending.timer);
      if (envelope.type === 'error') pending.reject(new Error(JSON.stringify(envelope.data)));
      else pending.resolve(envelope);
      return;
    }
    if (envelope.type === 'message.created' && envelope.chatId && envelope.seq) {
      this.pushes += 1;
      this.held.get(envelope.chatId)?.add(envelope.seq);
    }
  }

  #failPending(): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error('the socket closed'));
      this.#pending.delete(id);
    }
  }

  /** Sends a frame and waits for the reply carrying its requestId (`ack`, `pong`; `error` rejects). */
  request(frame: Record<string, unknown>, timeoutMs = 15_000): Promise<Envelope> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new Error('the socket is not open'));
    const requestId = `soak-${++requests}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new Error(`no reply to ${String(frame.action)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(requestId, { resolve, reject, timer });
      ws.send(JSON.stringify({ ...frame, requestId }));
    });
  }

  /**
   * Subscribes every chat from the last seq it holds with no hole below (waiting for each ack, which
   * brings the messages after it), then fetches with `after=` whatever the ack could not carry.
   */
  async subscribeAndCatchUp(api: Http): Promise<void> {
    const chats = this.chatIds.map((chatId) => ({ chatId, after: this.contiguous(chatId) }));
    const ack = await this.request({ action: 'subscribe', chats });
    const acked = (ack.data?.chats ?? []) as {
      chatId: string;
      lastSeq: number;
      messages?: { seq: number }[];
    }[];
    await Promise.all(
      acked.map(async ({ chatId, lastSeq, messages = [] }) => {
        const held = this.held.get(chatId);
        for (const message of messages) held?.add(message.seq);
        await this.catchUp(api, chatId, lastSeq);
      }),
    );
  }

  /** The highest seq below which this socket holds every message of the chat. */
  contiguous(chatId: string): number {
    const held = this.held.get(chatId);
    let after = 0;
    while (held?.has(after + 1)) after += 1;
    return after;
  }

  /** Fills every hole below `upTo` (not only the tail) from GET …/messages, page by page. */
  async catchUp(api: Http, chatId: string, upTo: number): Promise<void> {
    const held = this.held.get(chatId) ?? new Set<number>();
    let after = Math.min(this.contiguous(chatId), upTo);
    while (after < upTo) {
      const page = await api.ok<{ items: { seq: number }[] }>(
        'GET',
        `/v1/chats/${chatId}/messages?after=${after}&limit=100`,
        this.token,
      );
      if (page.items.length === 0) break;
      for (const item of page.items) held.add(item.seq);
      after = Math.max(after, ...page.items.map((item) => item.seq));
    }
  }

  /** The seqs in 1..`upTo` this socket lacks for `chatId`. */
  missing(chatId: string, upTo: number): number {
    const held = this.held.get(chatId);
    let count = 0;
    for (let seq = 1; seq <= upTo; seq++) if (!held?.has(seq)) count += 1;
    return count;
  }

  /** A clean close (close frame) or a drop (the TCP connection cut, no close frame); resolves once closed. */
  async close(abrupt: boolean): Promise<void> {
    const ws = this.#ws;
    this.unbroken = false;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    this.#closing.add(ws);
    const closed = new Promise((resolve) => ws.once('close', resolve));
    if (abrupt) ws.terminate();
    else ws.close(1000);
    await closed;
  }
}
