/**
 * The sending side of the outbox: each chat's entries go out oldest first, one at a time, retried with
 * the same clientMessageId (a backoff wait that a reconnect or close cuts short) until the server
 * acknowledges or refuses them; send() resolves or rejects with its entry.
 */
import { backoffDelay, sleep } from './backoff.ts';
import { chatPath } from './delivery.ts';
import { ApiError, isRetryable, waitBefore } from './http.ts';
import type { Outbox } from './outbox.ts';
import type { ClientParts, Relay } from './relay.ts';
import { randomId } from './socket.ts';
import type { Message, MessageContent, OutboxEntry } from './types.ts';

interface Waiter {
  resolve(message: Message): void;
  reject(error: unknown): void;
}

export class Sender {
  readonly #deps: ClientParts;
  readonly #outbox: Outbox;
  readonly #relay: Relay;
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #flushing = new Set<string>();
  /** Aborted by wake(): cuts the backoff waits short. */
  #wakeup = new AbortController();

  constructor(deps: ClientParts, outbox: Outbox, relay: Relay) {
    this.#deps = deps;
    this.#outbox = outbox;
    this.#relay = relay;
  }

  /** Messages not acknowledged yet (all chats, or one). */
  pending(chatId?: string): OutboxEntry[] {
    return this.#outbox.list(chatId);
  }

  /** Queues a message in the outbox and sends it; resolves with the stored message. */
  send(
    chatId: string,
    content: string | MessageContent,
    options: { clientMessageId?: string } = {},
  ): Promise<Message> {
    const { text, attachmentId, replyTo, mentions } =
      typeof content === 'string' ? { text: content } : content;
    const entry: OutboxEntry = {
      clientMessageId: options.clientMessageId ?? randomId('cm'),
      chatId,
      ...(text ? { text } : {}),
      ...(attachmentId ? { attachmentId } : {}),
      ...(replyTo ? { replyTo } : {}),
      ...(mentions?.length ? { mentions: [...mentions] } : {}),
      createdAt: new Date().toISOString(),
    };
    const done = new Promise<Message>((resolve, reject) => {
      const list = this.#waiters.get(entry.clientMessageId) ?? [];
      list.push({ resolve, reject });
      this.#waiters.set(entry.clientMessageId, list);
    });
    this.#outbox.add(entry);
    void this.#flushChat(chatId);
    return done;
  }

  /** Sends every stored entry (after a reload too). */
  flush(): void {
    for (const chatId of new Set(this.#outbox.list().map((entry) => entry.chatId)))
      void this.#flushChat(chatId);
  }

  /** A frame over this tab's live socket, else the HTTP route. */
  async frame(frame: Record<string, unknown>, path: string, body: unknown): Promise<void> {
    const engine = this.#relay.live();
    if (engine) {
      try {
        await engine.frame(frame);
        return;
      } catch (error) {
        if (!isRetryable(error)) throw error;
      }
    }
    await this.#deps.request('POST', path, body);
  }

  /** Ends the backoff waits now (the transport is up again, or the client closed). */
  wake(): void {
    this.#wakeup.abort();
    this.#wakeup = new AbortController();
  }

  #settle(clientMessageId: string, outcome: { message: Message } | { error: unknown }): void {
    this.#outbox.remove(clientMessageId);
    for (const waiter of this.#waiters.get(clientMessageId) ?? []) {
      if ('message' in outcome) waiter.resolve(outcome.message);
      else waiter.reject(outcome.error);
    }
    this.#waiters.delete(clientMessageId);
  }

  /** One chat's entries, oldest first, one at a time (so they keep their order). */
  async #flushChat(chatId: string): Promise<void> {
    if (this.#flushing.has(chatId)) return;
    this.#flushing.add(chatId);
    const { timing, signal } = this.#deps;
    try {
      for (let attempt = 0; !signal.aborted;) {
        const entry = this.#outbox.list(chatId)[0];
        if (!entry) return;
        try {
          const message = await this.#post(entry);
          attempt = 0;
          this.#settle(entry.clientMessageId, { message });
          this.#deps.delivery.ingest(message);
        } catch (error) {
          // A file message may be sent before storage has confirmed its upload (409): retry a while.
          const early =
            entry.attachmentId && error instanceof ApiError && error.status === 409 && attempt < 8;
          if (!isRetryable(error) && !early) {
            this.#deps.events.emit('error', error);
            this.#settle(entry.clientMessageId, { error });
            continue;
          }
          const delay = waitBefore(error, backoffDelay(attempt++, timing.minBackoffMs, timing.maxBackoffMs));
          await sleep(delay, this.#wakeup.signal).catch(() => {});
        }
      }
    } finally {
      this.#flushing.delete(chatId);
    }
  }

  async #post(entry: OutboxEntry): Promise<Message> {
    const { chatId, clientMessageId, text, attachmentId, replyTo, mentions } = entry;
    const type = attachmentId ? 'file' : 'text';
    const body = { clientMessageId, type, text, attachmentId, replyTo, mentions };
    const engine = this.#relay.live();
    if (engine) {
      const data = await engine.frame({ action: 'sendMessage', chatId, ...body });
      const message = data.message as Message;
      this.#relay.sent(message);
      return message;
    }
    return this.#deps.request('POST', `${chatPath(chatId)}/messages`, body);
  }
}
