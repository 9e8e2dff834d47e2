/**
 * ChatClient: HTTP calls (timeout, abort, one token renewal on expiry), the realtime transport (socket,
 * polling fallback; shared across tabs through the leader), in-order delivery and the persisted outbox.
 *
 *   const client = new ChatClient({ httpUrl, token, storageKey: `chat:${tenantId}:${userId}`, tabs: true });
 *   client.on('message', render);
 *   await client.connect();
 *   await client.subscribe(chatId);          // history, then live, in seq order, each once
 *   await client.send(chatId, 'Hello');      // through the outbox, retried until acked
 *   await client.send(chatId, { text: 'Yes', replyTo: messageId });   // a reply
 *   await client.send(chatId, { text: '@agent-2 see this', mentions: ['agent-2'] });
 *   client.on('mention', notify);            // this user mentioned, in any chat
 *
 * The pieces: api.ts (REST resources, inherited), request.ts (token renewal), relay.ts (the realtime
 * engine and the tab leader), delivery.ts (ordering, catch-up), sending.ts (the outbox's flushing).
 */
import { ChatApi } from './api.ts';
import { chatPath, Delivery } from './delivery.ts';
import { Emitter } from './emitter.ts';
import { ApiError, base } from './http.ts';
import { Outbox } from './outbox.ts';
import { Relay } from './relay.ts';
import { authorizedRequest } from './request.ts';
import { Sender } from './sending.ts';
import type {
  ChatClientOptions,
  ChatEvents,
  Message,
  MessageContent,
  OutboxEntry,
  Status,
  Timing,
} from './types.ts';

export const DEFAULT_TIMING: Timing = {
  requestTimeoutMs: 15_000,
  pingMs: 4 * 60_000,
  maxConnectionMs: 110 * 60_000,
  openTimeoutMs: 10_000,
  minBackoffMs: 500,
  maxBackoffMs: 10_000,
  failuresBeforePolling: 2,
  probeMs: 60_000,
  pollWaitSeconds: 0,
  heartbeatMs: 1_000,
};

const defaultStorage = (): ChatClientOptions['storage'] => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
};

export class ChatClient extends ChatApi {
  readonly #events = new Emitter<ChatEvents>();
  readonly #abort = new AbortController();
  readonly #delivery: Delivery;
  readonly #relay: Relay;
  readonly #sender: Sender;

  constructor(options: ChatClientOptions) {
    const timing: Timing = { ...DEFAULT_TIMING, ...options.timing };
    options = { ...options, httpUrl: base(options.httpUrl) };
    const request = authorizedRequest(options, timing.requestTimeoutMs);
    super(request, options.fetch);
    const events = this.#events;
    const signal = this.#abort.signal;
    const { minBackoffMs: minMs, maxBackoffMs: maxMs } = timing;
    const delivery = (this.#delivery = new Delivery(events, request, { minMs, maxMs, signal }));
    const storage = 'storage' in options ? options.storage : defaultStorage();
    const outbox = new Outbox(storage, `${options.storageKey ?? 'chat'}:outbox`, (entries) =>
      events.emit('outbox', entries),
    );
    const parts = { options, timing, request, delivery, events, signal };
    this.#relay = new Relay(parts, () => this.#sender.wake());
    this.#sender = new Sender(parts, outbox, this.#relay);
  }

  get status(): Status {
    return this.#relay.status;
  }

  on<K extends keyof ChatEvents>(type: K, fn: (value: ChatEvents[K]) => void): () => void {
    return this.#events.on(type, fn);
  }

  off<K extends keyof ChatEvents>(type: K, fn: (value: ChatEvents[K]) => void): void {
    this.#events.off(type, fn);
  }

  markRead(chatId: string, seq: number): Promise<void> {
    return this.#sender.frame({ action: 'markRead', chatId, seq }, `${chatPath(chatId)}/read`, { seq });
  }

  typing(chatId: string, isTyping: boolean): Promise<void> {
    return this.#sender.frame({ action: 'typing', chatId, isTyping }, `${chatPath(chatId)}/typing`, {
      isTyping,
    });
  }

  // ---- realtime ----

  /** Starts the realtime transport; resolves once 'live' or 'polling'. */
  connect(): Promise<void> {
    const { status } = this;
    if (status === 'closed') return Promise.reject(new ApiError(0, 'closed', 'the client is closed'));
    if (status === 'idle') {
      this.#relay.start();
      this.#sender.flush();
    }
    if (this.status === 'live' || this.status === 'polling') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on('status', (status) => {
        if (status === 'live' || status === 'polling') resolve();
        else if (status === 'closed') reject(new ApiError(0, 'closed', 'the client was closed'));
        else return;
        off();
      });
    });
  }

  /** Stops everything: no socket, poll, timer or tab role survives. */
  close(): void {
    if (this.status === 'closed') return;
    this.#abort.abort();
    this.#relay.close();
    this.#sender.wake();
    this.#relay.setStatus('closed');
  }

  // ---- delivery ----

  /**
   * History after `after` (default 0), then live messages, in seq order; survives reconnects. Chat
   * events (chat.*, message.updated/deleted, receipt) from now on, or after `afterEvent` when given; any
   * missed while disconnected are caught up.
   */
  async subscribe(chatId: string, options: { after?: number; afterEvent?: number } = {}): Promise<void> {
    const { after = 0, afterEvent } = options;
    if (!this.#delivery.has(chatId)) {
      this.#delivery.add(chatId, after, afterEvent);
      // With a live socket, wait for the subscription's ack before catching up (the contract's order).
      const added = this.#relay.add(chatId, after);
      if (added) await added;
    }
    await this.#delivery.settle(chatId);
  }

  async unsubscribe(chatId: string): Promise<void> {
    this.#delivery.remove(chatId);
    this.#relay.changed();
  }

  lastSeq(chatId: string): number | undefined {
    return this.#delivery.lastSeq(chatId);
  }

  /** Live list: `chats` events for the tenant's chats matching `filter` (agents, services). */
  watchChats(filter: Record<string, string>): () => void {
    return this.#relay.watchChats(filter);
  }

  // ---- outbox ----

  /** Messages not acknowledged yet (all chats, or one). */
  pending(chatId?: string): OutboxEntry[] {
    return this.#sender.pending(chatId);
  }

  /**
   * Queues a message in the persisted outbox and sends it, retrying with the same clientMessageId until
   * the server acknowledges it; resolves with the stored message. `{ text, replyTo: messageId }` sends a
   * reply (the server stores a quote of that message in `replyTo`); `{ text, mentions: [userId] }`
   * mentions participants (each gets a `mention` event; render them with splitMentions).
   */
  send(
    chatId: string,
    content: string | MessageContent,
    options: { clientMessageId?: string } = {},
  ): Promise<Message> {
    return this.#sender.send(chatId, content, options);
  }
}
