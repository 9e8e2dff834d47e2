/**
 * The realtime transport of one tab (the leader's, when tabs share it): a socket (ticket, subscribe
 * every chat, wait for the acks, then report the chats `synced` so they catch up), falling back to
 * HTTP polling when the socket cannot open, probing the socket again in the background and switching
 * back once it is open and acked. Exactly one socket at a time: each dial has a generation, and a dial
 * overtaken by close() or by a newer dial never creates its socket.
 */
import { backoffDelay } from './backoff.ts';
import type { Request } from './delivery.ts';
import { isRetryable } from './http.ts';
import { type Cursor, pollChangesOnce, pollChatOnce, pollLoop, type PollDeps } from './polling.ts';
import { type CloseReason, Connection } from './socket.ts';
import type { AnyEnvelope, Status, Timing, Transport, WebSocketFactory } from './types.ts';

export interface RealtimeHooks {
  envelope(envelope: AnyEnvelope): void;
  status(status: Status): void;
  /** These chats' subscriptions are in place (acked, or polling started): catch them up now. */
  synced(chatIds: string[]): void;
  error(error: unknown): void;
}

type Mode = 'socket' | 'polling';

export class Realtime {
  readonly #cursors = new Map<string, Cursor>();
  readonly #pollers = new Map<string, AbortController>();
  #watch: Record<string, string> | undefined;
  #changes: { since?: string } = {};
  #mode: Mode;
  #conn: Connection | undefined;
  #live = false;
  #generation = 0;
  #failures = 0;
  #attempt = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = true;
  #status: Status = 'idle';
  readonly #poll: PollDeps;

  constructor(
    private readonly request: Request,
    private readonly WebSocket: WebSocketFactory | undefined,
    private readonly timing: Timing,
    private readonly transport: Transport,
    private readonly hooks: RealtimeHooks,
  ) {
    this.#mode = transport === 'polling' || !WebSocket ? 'polling' : 'socket';
    this.#poll = {
      request,
      timing,
      envelope: (envelope) => this.#receive(envelope),
      health: (ok, error) => {
        if (this.#mode !== 'polling' || this.#stopped) return;
        if (!ok) hooks.error(error);
        this.#setStatus(ok ? 'polling' : 'offline');
      },
    };
  }

  get status(): Status {
    return this.#status;
  }

  /** The socket is open and every subscription acked. */
  get live(): boolean {
    return this.#live;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    if (this.#mode === 'polling') this.#startPolling();
    else this.#dial();
  }

  stop(): void {
    this.#stopped = true;
    this.#generation += 1;
    clearTimeout(this.#timer);
    this.#drop();
    this.#stopPolling();
    this.#setStatus('closed');
  }

  /** Dial (or probe, when polling) now, e.g. the browser came back online, instead of waiting. */
  nudge(): void {
    if (!this.#stopped && !this.#live) void this.#dial();
  }

  chatIds(): string[] {
    return [...this.#cursors.keys()];
  }

  /** Adds a chat; resolves once its subscription is acked (at once when there is no open socket). */
  async add(chatId: string, after = 0): Promise<void> {
    const cursor = this.#cursors.get(chatId);
    if (cursor) {
      cursor.after = Math.max(cursor.after, after);
      return;
    }
    this.#cursors.set(chatId, { after });
    if (this.#conn?.opened) {
      const conn = this.#conn;
      try {
        await this.#subscribe(conn, [chatId]);
        if (conn === this.#conn) this.hooks.synced([chatId]);
      } catch (error) {
        this.hooks.error(error);
      }
    } else if (this.#mode === 'polling' && !this.#stopped) this.#startPoller(chatId);
  }

  remove(chatId: string): void {
    if (!this.#cursors.delete(chatId)) return;
    this.#pollers.get(chatId)?.abort();
    this.#pollers.delete(chatId);
    this.#conn?.request({ action: 'unsubscribe', chatId }).catch(() => {});
  }

  /** Live list: watchChats on the socket, GET /v1/chats/changes when polling; undefined stops. */
  watch(filter: Record<string, string> | undefined): void {
    this.#watch = filter;
    this.#changes = {};
    this.#pollers.get('')?.abort();
    this.#pollers.delete('');
    if (this.#conn?.opened) {
      const frame = filter ? { action: 'watchChats', filter } : { action: 'unwatchChats' };
      this.#conn.request(frame).catch((error: unknown) => this.hooks.error(error));
    } else if (filter && this.#mode === 'polling' && !this.#stopped) this.#startChangesPoller();
  }

  /** A frame over the live socket (sendMessage, typing, markRead); rejects when there is none. */
  async frame(frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (!this.#live || !this.#conn) throw new Error('not live');
    const ack = await this.#conn.request(frame);
    return ((ack as { data?: unknown }).data ?? {}) as Record<string, unknown>;
  }

  #setStatus(status: Status): void {
    if (status === this.#status || (this.#stopped && status !== 'closed')) return;
    this.#status = status;
    this.hooks.status(status);
  }

  #receive(envelope: AnyEnvelope): void {
    const cursor = envelope.chatId === undefined ? undefined : this.#cursors.get(envelope.chatId);
    if (cursor) {
      const { type, seq, eventSeq, data } = envelope as {
        type: string;
        seq?: number;
        eventSeq?: number;
        data?: { lastEventSeq?: number; messages?: { seq: number }[] };
      };
      // A message, or a subscribe ack with the messages after the seq it was sent.
      const last = type === 'message.created' ? seq : data?.messages?.at(-1)?.seq;
      if (last) cursor.after = Math.max(cursor.after, last);
      if (eventSeq !== undefined) cursor.afterEvent = Math.max(cursor.afterEvent ?? 0, eventSeq);
      // A subscribe ack's lastEventSeq (a chat's, in chat.* data, equals its eventSeq): a first one is
      // where a later poll of the event log starts.
      cursor.afterEvent ??= data?.lastEventSeq;
    }
    this.hooks.envelope(envelope);
  }

  /**
   * Subscribes chats from the last seq seen of each, up to 25 in one frame (`chats`); each chat's part
   * of the ack (`lastSeq`, `lastEventSeq`, the messages after that seq) goes on as that chat's ack.
   */
  async #subscribe(conn: Connection, chatIds: string[], timeoutMs?: number): Promise<void> {
    for (let i = 0; i < chatIds.length; i += 25) {
      const chats = chatIds
        .slice(i, i + 25)
        .map((chatId) => ({ chatId, after: this.#cursors.get(chatId)?.after }));
      const ack = await conn.request({ action: 'subscribe', chats }, timeoutMs);
      for (const data of (ack.data as { chats: { chatId: string }[] }).chats)
        this.#receive({ ...ack, chatId: data.chatId, data } as AnyEnvelope);
    }
  }

  // ---- socket ----

  #drop(): void {
    this.#conn?.close();
    this.#conn = undefined;
    this.#live = false;
  }

  async #dial(): Promise<void> {
    const generation = ++this.#generation;
    clearTimeout(this.#timer);
    if (this.#mode === 'socket' && this.#status !== 'offline') this.#setStatus('connecting');
    let ticket: { ticket: string; url: string };
    try {
      ticket = await this.request('POST', '/v1/realtime/tickets');
    } catch (error) {
      if (generation !== this.#generation) return;
      this.hooks.error(error);
      return this.#failed(isRetryable(error) ? 'offline' : 'refused');
    }
    if (generation !== this.#generation || !this.WebSocket) return;
    this.#drop();
    const url = `${ticket.url}${ticket.url.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(ticket.ticket)}`;
    const conn: Connection = new Connection(url, this.WebSocket, this.timing, {
      open: () => void this.#handshake(conn),
      envelope: (envelope) => this.#receive(envelope),
      end: (reason, opened) => this.#ended(conn, reason, opened),
    });
    this.#conn = conn;
  }

  /** Subscribes every chat (and the watch) and waits for the replies; only then is the socket live. */
  async #handshake(conn: Connection): Promise<void> {
    const chatIds = this.chatIds();
    const timeoutMs = this.timing.openTimeoutMs;
    try {
      await Promise.all([
        this.#subscribe(conn, chatIds, timeoutMs),
        this.#watch
          ? conn.request({ action: 'watchChats', filter: this.#watch }, timeoutMs)
          : chatIds.length === 0 && conn.request({ action: 'ping' }, timeoutMs),
      ]);
    } catch (error) {
      if (conn !== this.#conn) return;
      this.hooks.error(error);
      this.#drop();
      // No answer to the first frames counts as an open timeout (e.g. a proxy that swallows them).
      return this.#failed(
        'socket',
        (error as { code?: string }).code === 'timeout' ? 'open-timeout' : 'dropped',
      );
    }
    if (conn !== this.#conn) return;
    this.#live = true;
    this.#failures = 0;
    this.#attempt = 0;
    if (this.#mode === 'polling') {
      this.#mode = 'socket';
      this.#stopPolling(true);
    }
    this.#setStatus('live');
    this.hooks.synced(this.chatIds());
  }

  #ended(conn: Connection, reason: CloseReason, opened: boolean): void {
    if (conn !== this.#conn) return;
    const wasLive = this.#live;
    this.#conn = undefined;
    this.#live = false;
    if (this.#stopped) return;
    if (reason === 'planned') return void this.#dial();
    if (!opened || !wasLive || reason === 'open-timeout') return this.#failed('socket', reason);
    // A live socket dropped (or missed a pong): reconnect after a short jittered delay.
    this.#setStatus('connecting');
    this.#retryIn(backoffDelay(this.#attempt++, this.timing.minBackoffMs, this.timing.maxBackoffMs));
  }

  #failed(kind: 'socket' | 'offline' | 'refused', reason?: CloseReason): void {
    if (this.#stopped) return;
    const { failuresBeforePolling, probeMs, minBackoffMs, maxBackoffMs } = this.timing;
    if (this.#mode === 'polling') {
      // A background probe failed: try again later.
      return this.#retryIn(probeMs * (0.5 + Math.random()));
    }
    this.#failures += 1;
    const giveUp = this.#failures >= failuresBeforePolling || reason === 'open-timeout';
    if (this.transport === 'auto' && kind === 'socket' && giveUp) {
      this.#startPolling();
      return this.#retryIn(probeMs * (0.5 + Math.random()));
    }
    this.#setStatus(kind !== 'socket' || giveUp ? 'offline' : 'connecting');
    this.#retryIn(backoffDelay(this.#attempt++, minBackoffMs, maxBackoffMs));
  }

  #retryIn(ms: number): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.#dial(), ms);
  }

  // ---- polling ----

  #startPolling(): void {
    this.#mode = 'polling';
    this.#setStatus('polling');
    for (const chatId of this.chatIds()) this.#startPoller(chatId);
    if (this.#watch) this.#startChangesPoller();
    this.hooks.synced(this.chatIds());
  }

  #startPoller(chatId: string): void {
    const cursor = this.#cursors.get(chatId);
    if (!cursor || this.#pollers.has(chatId)) return;
    const controller = new AbortController();
    this.#pollers.set(chatId, controller);
    void pollLoop(
      (wait, signal) => pollChatOnce(chatId, cursor, wait, this.#poll, signal),
      this.#poll,
      controller.signal,
    );
  }

  #startChangesPoller(): void {
    const filter = this.#watch;
    if (!filter || this.#pollers.has('')) return;
    const controller = new AbortController();
    this.#pollers.set('', controller);
    const cursor = this.#changes;
    void pollLoop(
      (wait, signal) => pollChangesOnce(filter, cursor, wait, this.#poll, signal),
      this.#poll,
      controller.signal,
    );
  }

  /**
   * Stops the pollers. `drain`: the socket has taken over (subscribed and acked), so one last
   * immediate poll per chat fetches what came between the last poll and the subscription.
   */
  #stopPolling(drain = false): void {
    for (const controller of this.#pollers.values()) controller.abort();
    this.#pollers.clear();
    if (!drain) return;
    const deps = { ...this.#poll, health: () => {} };
    for (const [chatId, cursor] of this.#cursors) {
      pollChatOnce(chatId, cursor, 0, deps).catch(() => {});
    }
    if (this.#watch) pollChangesOnce(this.#watch, this.#changes, 0, deps).catch(() => {});
  }
}
