/**
 * A small, dependency-free client for the chat's public contract (docs: /work/shared/CONTRACT.md).
 *
 *   const config = await loadConfig();
 *   const { token } = await createVisitor(config.httpUrl, config.tenantId);
 *   const client = new ChatClient({ httpUrl: config.httpUrl, token });
 *   client.on('message', (message) => render(message));
 *   await client.connect();
 *   await client.subscribe(chatId);            // history, then live messages, in seq order
 *   await client.send(chatId, 'Hello');        // idempotent retries with one clientMessageId
 *
 * Delivery: each subscribed chat remembers the last seq it delivered. Messages are emitted strictly in
 * seq order, each once; an early one waits in a buffer while the gap is fetched with
 * GET …/messages?after=. The socket reconnects with backoff and a new ticket each time, resubscribes,
 * and fetches whatever it missed. In Node, pass `WebSocket` (e.g. from the `ws` package).
 */

/** An error answered by the API (HTTP `{ error }` body or a socket `error` envelope). */
export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const RETRYABLE_CODES = new Set(['busy', 'internal', 'rate_limited', 'timeout', 'not_connected']);
/** Network failures, timeouts, 429 and 5xx are worth retrying; a refused request is not. */
export const isRetryable = (error) =>
  !(error instanceof ApiError) ||
  error.status === 429 ||
  error.status >= 500 ||
  RETRYABLE_CODES.has(error.code);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const randomId = (prefix) =>
  `${prefix}-${globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`}`;

/** One JSON request; non-2xx answers become an ApiError carrying the contract's error code. */
export const requestJson = async (
  url,
  { method = 'GET', token, body, fetch: fetchImpl = globalThis.fetch } = {},
) => {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetchImpl(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let value;
  try {
    value = text ? JSON.parse(text) : undefined;
  } catch {
    value = undefined;
  }
  if (!response.ok) {
    const error = value?.error ?? {};
    throw new ApiError(
      response.status,
      error.code ?? `http_${response.status}`,
      error.message ?? text,
      error.details,
    );
  }
  return value;
};

/** The web apps' runtime configuration: `{ httpUrl, wsUrl, tenantId, devTokens }`. */
export const loadConfig = (url = '/config.json') => requestJson(url);

/** POST /v1/visitors: an anonymous visitor of a tenant → `{ visitorId, token, expiresAt }`. */
export const createVisitor = (httpUrl, tenantId, profile = {}) =>
  requestJson(`${httpUrl}/v1/visitors`, { method: 'POST', body: { tenantId, ...profile } });

/** POST /v1/dev/tokens (local cloud only): `{ tenantId, userId, role }` → `{ token }`. */
export const devToken = (httpUrl, claims) =>
  requestJson(`${httpUrl}/v1/dev/tokens`, { method: 'POST', body: claims });

export class ChatClient {
  #listeners = new Map();
  #chats = new Map(); // chatId → { lastSeq, buffer: Map<seq, Message>, syncing, again }
  #pending = new Map(); // requestId → { resolve, reject, timer }
  #seen = new Set(); // ids of envelopes other than messages (messages dedupe by chatId + seq)
  #socket;
  #wanted = false;
  #generation = 0; // bumped by close(): a dial in flight from before then gives up
  #attempt = 0;
  #retryTimer;
  #status = 'idle';

  /**
   * @param options.httpUrl   base URL of the HTTP API
   * @param options.token     bearer token, or a function returning one (called for every request)
   * @param options.WebSocket WebSocket constructor (default: the global one)
   */
  constructor({
    httpUrl,
    token,
    WebSocket,
    fetch,
    minBackoffMs = 500,
    maxBackoffMs = 15_000,
    timeoutMs = 10_000,
    pingMs = 300_000,
  }) {
    this.httpUrl = httpUrl.replace(/\/$/, '');
    this.token = token;
    this.WebSocket = WebSocket ?? globalThis.WebSocket;
    this.fetch = fetch ?? globalThis.fetch.bind(globalThis);
    Object.assign(this, { minBackoffMs, maxBackoffMs, timeoutMs, pingMs });
    this.connectionId = undefined;
  }

  /** Listens to `message`, `ready`, `status`, `error` or `envelope` (any other server envelope). */
  on(type, listener) {
    if (!this.#listeners.has(type)) this.#listeners.set(type, new Set());
    this.#listeners.get(type).add(listener);
    return () => this.#listeners.get(type)?.delete(listener);
  }

  #emit(type, value) {
    for (const listener of this.#listeners.get(type) ?? []) {
      try {
        listener(value);
      } catch (error) {
        if (type !== 'error') this.#emit('error', error);
      }
    }
  }

  get status() {
    return this.#status;
  }

  #setStatus(status) {
    if (status === this.#status) return;
    this.#status = status;
    this.#emit('status', status);
  }

  // ---- HTTP ----

  async request(method, path, body) {
    const token = typeof this.token === 'function' ? await this.token() : this.token;
    return requestJson(`${this.httpUrl}${path}`, { method, token, body, fetch: this.fetch });
  }

  createChat(input = {}) {
    return this.request('POST', '/v1/chats', input);
  }

  getChat(chatId) {
    return this.request('GET', `/v1/chats/${encodeURIComponent(chatId)}`);
  }

  listChats(query = {}) {
    const search = new URLSearchParams(query).toString();
    return this.request('GET', `/v1/chats${search ? `?${search}` : ''}`);
  }

  // ---- socket ----

  /** Opens the socket (and keeps it open until close()); resolves once it is open. */
  connect() {
    if (typeof this.WebSocket !== 'function') throw new TypeError('no WebSocket: pass options.WebSocket');
    this.#wanted = true;
    if (this.#status === 'idle' || this.#status === 'closed') this.#dial();
    if (this.#status === 'open') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on('status', (status) => {
        if (status === 'open') resolve();
        else if (status === 'closed') reject(new ApiError(0, 'closed', 'the client was closed or refused'));
        else return;
        off();
      });
    });
  }

  close() {
    this.#wanted = false;
    this.#generation += 1;
    this.#attempt = 0;
    clearTimeout(this.#retryTimer);
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000);
    this.#rejectPending();
    this.#setStatus('closed');
  }

  #rejectPending() {
    for (const pending of this.#pending.values()) {
      pending.reject(new ApiError(0, 'not_connected', 'the socket closed before the reply'));
    }
    this.#pending.clear();
  }

  async #dial() {
    const generation = this.#generation;
    this.#setStatus(this.#attempt === 0 ? 'connecting' : 'reconnecting');
    let ticket;
    try {
      ticket = await this.request('POST', '/v1/realtime/tickets');
    } catch (error) {
      this.#emit('error', error);
      if (isRetryable(error)) this.#retry();
      else this.close(); // e.g. an expired token: a new ticket will not help
      return;
    }
    if (!this.#wanted || generation !== this.#generation) return;
    const url = `${ticket.url}${ticket.url.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(ticket.ticket)}`;
    const socket = new this.WebSocket(url);
    this.#socket = socket;
    let ping;
    socket.onopen = () => {
      this.#setStatus('open');
      ping = setInterval(() => this.#frame({ action: 'ping' }).catch(() => {}), this.pingMs);
      for (const chatId of this.#chats.keys()) {
        this.#subscribeOnSocket(chatId).catch((error) => this.#emit('error', error));
      }
    };
    socket.onmessage = (event) => this.#receive(event.data);
    socket.onerror = () => {}; // a close event follows; the `ws` package throws on unhandled errors
    socket.onclose = () => {
      clearInterval(ping);
      if (this.#socket !== socket) return; // closed on purpose, or already replaced
      this.#socket = undefined;
      this.#rejectPending();
      if (this.#wanted) this.#retry();
    };
  }

  #retry() {
    this.#setStatus('reconnecting');
    const delay =
      Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** this.#attempt) * (0.5 + Math.random() / 2);
    this.#attempt += 1;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#wanted && this.#dial(), delay);
  }

  /** Sends a frame and resolves with its `ack` (rejects with its `error`, a timeout or a closed socket). */
  #frame(frame) {
    const socket = this.#socket;
    if (this.#status !== 'open' || !socket) {
      return Promise.reject(new ApiError(0, 'not_connected', 'the socket is not open'));
    }
    const requestId = randomId('rq');
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new ApiError(0, 'timeout', `no reply to ${frame.action} within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      const settle = (fn) => (value) => {
        clearTimeout(timer);
        fn(value);
      };
      this.#pending.set(requestId, { resolve: settle(resolve), reject: settle(reject) });
      socket.send(JSON.stringify({ ...frame, requestId }));
    });
  }

  #receive(data) {
    let envelope;
    try {
      envelope = JSON.parse(data);
    } catch {
      return this.#emit('error', new ApiError(0, 'bad_frame', 'the server sent a frame that is not JSON'));
    }
    const pending = envelope.requestId ? this.#pending.get(envelope.requestId) : undefined;
    if (pending && (envelope.type === 'ack' || envelope.type === 'error' || envelope.type === 'pong')) {
      this.#pending.delete(envelope.requestId);
      if (envelope.type === 'error') {
        const { code, message, details } = envelope.data ?? {};
        pending.reject(new ApiError(400, code ?? 'error', message ?? 'request failed', details));
      } else pending.resolve(envelope);
      return;
    }
    if (envelope.type === 'message.created') return this.#ingest(envelope.data);
    if (envelope.id) {
      if (this.#seen.has(envelope.id)) return;
      this.#seen.add(envelope.id);
      if (this.#seen.size > 1000) this.#seen.delete(this.#seen.values().next().value);
    }
    if (envelope.type === 'connection.ready') {
      this.#attempt = 0;
      this.connectionId = envelope.data?.connectionId;
      this.#emit('ready', envelope.data);
    } else if (envelope.type === 'error') {
      this.#emit(
        'error',
        new ApiError(400, envelope.data?.code ?? 'error', envelope.data?.message ?? 'error'),
      );
    } else this.#emit('envelope', envelope);
  }

  // ---- chats and messages ----

  /**
   * Delivers the chat's messages after `after` (default 0: the whole history), then live ones. Over
   * reconnects the chat stays subscribed until unsubscribe().
   */
  async subscribe(chatId, { after = 0 } = {}) {
    if (!this.#chats.has(chatId))
      this.#chats.set(chatId, { lastSeq: after, buffer: new Map(), syncing: null });
    if (this.#status === 'open') await this.#subscribeOnSocket(chatId);
    else await this.#catchUp(chatId);
  }

  async unsubscribe(chatId) {
    this.#chats.delete(chatId);
    if (this.#status === 'open') await this.#frame({ action: 'unsubscribe', chatId }).catch(() => {});
  }

  /** The last seq delivered for a subscribed chat. */
  lastSeq(chatId) {
    return this.#chats.get(chatId)?.lastSeq;
  }

  async #subscribeOnSocket(chatId) {
    const ack = await this.#frame({ action: 'subscribe', chatId });
    const state = this.#chats.get(chatId);
    if (state && (ack.data?.lastSeq ?? 0) > state.lastSeq) await this.#catchUp(chatId);
  }

  /** Fetches everything after the chat's last delivered seq, page by page; one run at a time per chat. */
  #catchUp(chatId) {
    const state = this.#chats.get(chatId);
    if (!state) return Promise.resolve();
    if (state.syncing) {
      state.again = true;
      return state.syncing;
    }
    const run = async () => {
      do {
        state.again = false;
        let after = state.lastSeq;
        for (;;) {
          const page = await this.request(
            'GET',
            `/v1/chats/${encodeURIComponent(chatId)}/messages?after=${after}&limit=100`,
          );
          for (const message of page.items) this.#ingest(message);
          if (!page.nextCursor) break;
          after = page.nextCursor;
        }
      } while (state.again && this.#chats.get(chatId) === state);
    };
    state.syncing = run().finally(() => {
      state.syncing = null;
    });
    return state.syncing;
  }

  /** Emits messages in seq order, each once; an early one waits for the gap to be fetched. */
  #ingest(message) {
    const state = this.#chats.get(message?.chatId);
    if (!state || message.seq <= state.lastSeq || state.buffer.has(message.seq)) return;
    state.buffer.set(message.seq, message);
    while (state.buffer.has(state.lastSeq + 1)) {
      const next = state.buffer.get(state.lastSeq + 1);
      state.buffer.delete(next.seq);
      state.lastSeq = next.seq;
      this.#emit('message', next);
    }
    if (state.buffer.size > 0 && !state.syncing) {
      this.#catchUp(message.chatId).catch((error) => {
        this.#emit('error', error);
        setTimeout(
          () => state.buffer.size > 0 && this.#catchUp(message.chatId).catch(() => {}),
          this.minBackoffMs,
        );
      });
    }
  }

  /**
   * Sends a text message over the socket (or HTTP when it is not open). Failures worth retrying are
   * retried with the same clientMessageId, so the message is stored once whatever happens.
   */
  async send(chatId, text, { clientMessageId = randomId('cm'), attempts = 5 } = {}) {
    for (let attempt = 1; ; attempt++) {
      try {
        const message =
          this.#status === 'open'
            ? (await this.#frame({ action: 'sendMessage', chatId, clientMessageId, text })).data.message
            : await this.request('POST', `/v1/chats/${encodeURIComponent(chatId)}/messages`, {
                clientMessageId,
                type: 'text',
                text,
              });
        this.#ingest(message);
        return message;
      } catch (error) {
        if (!isRetryable(error) || attempt >= attempts) throw error;
        await sleep(Math.min(this.maxBackoffMs, this.minBackoffMs * 2 ** (attempt - 1)));
      }
    }
  }
}
