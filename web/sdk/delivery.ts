/**
 * What the application sees, whatever the transport: each message once, per chat in seq order (an
 * early one waits while the hole below it is fetched), every other envelope once by id (reactions and
 * mentions too, a mention of a chat this tab does not follow as well), chat events in eventSeq order
 * (one above a hole is dropped and fetched with it), and a catch-up (GET …/messages?after=, then
 * GET …/events?afterEvent= when the event log is ahead) retried with backoff until it succeeds. An
 * envelope too large for a socket frame arrives as a notice (`data.tooLarge`): the chat is caught up,
 * which brings what it stood for (the message, or the chat event from the event log).
 */
import { isVoid } from '#shared/domain/voids.ts';
import { retry } from './backoff.ts';
import { isRetryable } from './http.ts';
import type { Emitter } from './emitter.ts';
import type {
  AnyEnvelope,
  Chat,
  ChatChangeType,
  ChatEvents,
  Message,
  ReactionChange,
  Role,
} from './types.ts';

export type Request = <T>(
  method: string,
  path: string,
  body?: unknown,
  options?: { signal?: AbortSignal; timeoutMs?: number },
) => Promise<T>;

interface ChatState {
  lastSeq: number;
  /** The highest eventSeq applied with none missing below (undefined: no baseline yet). */
  lastEventSeq?: number;
  /**
   * Nothing is missing, as the last catch-up or subscribe ack showed (every message up to the ack's
   * lastSeq held, most of them brought by the ack; none waiting above a hole; the event log not
   * behind): settle() has nothing to fetch.
   */
  settled?: boolean;
  /** The next catch-up also fetches the event log, until lastEventSeq reaches this (0: once). */
  target?: number;
  buffer: Map<number, Message>;
  /** The catch-up in flight. */
  syncing?: Promise<void>;
  /** A catch-up was asked for during the one in flight: it goes round once more. */
  again?: boolean;
}

const SEEN_MAX = 2000;
const CHAT_CHANGES = ['chat.created', 'chat.updated', 'chat.assigned', 'chat.closed'];

export const chatPath = (chatId: string): string => `/v1/chats/${encodeURIComponent(chatId)}`;

export class Delivery {
  readonly #chats = new Map<string, ChatState>();
  readonly #seen = new Set<string>();
  readonly #presenceAt = new Map<string, string>();
  /** watchChats is on: chat changes are emitted as `chats`. */
  watching = false;

  constructor(
    private readonly events: Emitter<ChatEvents>,
    private readonly request: Request,
    private readonly backoff: { minMs: number; maxMs: number; signal: AbortSignal },
  ) {}

  has(chatId: string): boolean {
    return this.#chats.has(chatId);
  }

  chatIds(): string[] {
    return [...this.#chats.keys()];
  }

  lastSeq(chatId: string): number | undefined {
    return this.#chats.get(chatId)?.lastSeq;
  }

  /** A new chat; with `afterEvent`, its first catch-up also fetches the event log after it. */
  add(chatId: string, after: number, afterEvent?: number): void {
    if (!this.#chats.has(chatId))
      this.#chats.set(chatId, {
        lastSeq: after,
        lastEventSeq: afterEvent,
        target: afterEvent && 0, // given: fetch once
        buffer: new Map(),
      });
  }

  /**
   * The chat's event log reaches `eventSeq` (a subscribe ack; undefined: unknown, e.g. a new leader
   * tab): the next catch-up fetches what this tab lacks. Without a baseline yet, an ack is the baseline
   * (what came before is in the chat the app reads).
   */
  behind(chatId: string, eventSeq?: number): void {
    const state = this.#chats.get(chatId);
    if (!state) return;
    state.settled = false;
    if (state.lastEventSeq === undefined) state.lastEventSeq = eventSeq;
    else if ((eventSeq ?? Infinity) > state.lastEventSeq)
      state.target = Math.max(state.target ?? 0, eventSeq ?? 0);
  }

  remove(chatId: string): void {
    this.#chats.delete(chatId);
  }

  /** Dispatches one server envelope (from a socket, a poll, or the leader tab). */
  envelope(envelope: AnyEnvelope): void {
    const { type } = envelope;
    const chatId = envelope.chatId as string;
    const data = (envelope as { data?: unknown }).data as Record<string, unknown> & Message & Chat;
    const state = this.#chats.get(chatId);
    const eventSeq = (envelope as { eventSeq?: number }).eventSeq;
    if (data?.tooLarge === true) {
      // A notice for an envelope over the frame limit: the catch-up brings what it stood for.
      if (!state) return;
      state.lastEventSeq ??= (eventSeq ?? 1) - 1;
      if (eventSeq) this.behind(chatId, eventSeq);
      return void this.catchUp(chatId).catch(() => {});
    }
    if (type === 'message.created') return this.ingest(data);
    // A subscribe ack: the messages after the seq it was sent (each once, in order), the chat's last
    // seq, and its last event seq (an older server's has no lastEventSeq: fetch the event log once).
    if (type === 'ack') {
      for (const message of (data.messages as Message[] | undefined) ?? []) this.ingest(message);
      this.behind(chatId, data.lastEventSeq as number | undefined);
      if (state)
        state.settled =
          state.target === undefined && !state.buffer.size && state.lastSeq >= (data.lastSeq ?? Infinity);
      return;
    }
    if (state && eventSeq) {
      const last = state.lastEventSeq ?? eventSeq - 1;
      if (eventSeq > last + 1) {
        // Events are missing below this one: fetch them (and it) rather than apply it out of order.
        this.behind(chatId, eventSeq);
        return void this.catchUp(chatId).catch(() => {});
      }
      state.lastEventSeq = Math.max(last, eventSeq);
    }
    if (CHAT_CHANGES.includes(type)) {
      // A socket that subscribes and watches gets a change twice (same id), the watch copy maybe with
      // leftFilter: `chats` and `chat` dedupe apart, and a leftFilter copy is news to `chats`.
      const leftFilter = (envelope as { leftFilter?: boolean }).leftFilter === true;
      if (this.watching && this.#first(`l${leftFilter}:${envelope.id}`))
        this.events.emit('chats', { type: type as ChatChangeType, chat: data, leftFilter });
      if (state && type !== 'chat.created' && this.#first(`c:${envelope.id}`))
        this.events.emit('chat', { type: type as 'chat.updated', chat: data });
      return;
    }
    if (envelope.id && !this.#first(envelope.id)) return;
    if (type === 'connection.ready') {
      return this.events.emit('ready', data as unknown as ChatEvents['ready']);
    }
    if (type === 'error') {
      return this.events.emit('error', data);
    }
    // A mention comes for any chat of this user's (every socket of theirs gets it, subscribed or not).
    if (type === 'mention') return this.events.emit('mention', { ...data, chatId: chatId || data.chatId });
    // Presence also comes for the chats of a watched list (their customers), not only subscribed ones.
    if (!state && !(type === 'presence' && this.watching)) return;
    if (type === 'message.updated' || type === 'message.deleted') this.events.emit('messageUpdated', data);
    else if (type === 'typing') {
      const { userId, isTyping, expiresInMs } = data as unknown as ChatEvents['typing'];
      this.events.emit('typing', { chatId, userId, isTyping, expiresInMs });
    } else if (type === 'reaction') {
      // Reactions are state, versioned per message: applyReaction keeps the newest (they may come out of order).
      this.events.emit('reaction', { ...(data as unknown as ReactionChange), chatId });
    } else if (type === 'receipt') {
      this.events.emit('receipt', { chatId, userId: data.userId as string, seq: data.seq });
    } else if (type === 'presence') {
      // Presence is state: apply a change only if it is not older than the last one applied.
      const key = `${chatId}|${String(data.userId)}`;
      const at = String((envelope as { at?: string }).at ?? '');
      if (at < (this.#presenceAt.get(key) ?? '')) return;
      this.#presenceAt.set(key, at);
      this.events.emit('presence', {
        chatId,
        userId: data.userId as string,
        role: data.role as Role,
        online: data.online === true,
      });
    }
  }

  /** Whether this key is new (remembering the last SEEN_MAX). */
  #first(key: string): boolean {
    if (this.#seen.has(key)) return false;
    this.#seen.add(key);
    if (this.#seen.size > SEEN_MAX) this.#seen.delete(this.#seen.values().next().value as string);
    return true;
  }

  /** Emits messages in seq order, each once; an early one waits while the hole below it is fetched. */
  ingest(message: Message): void {
    const state = this.#chats.get(message.chatId);
    if (!state || message.seq <= state.lastSeq || state.buffer.has(message.seq)) return;
    state.buffer.set(message.seq, message);
    for (let next = state.buffer.get(state.lastSeq + 1); next; next = state.buffer.get(state.lastSeq + 1)) {
      state.buffer.delete(next.seq);
      state.lastSeq = next.seq;
      if (!isVoid(next)) this.events.emit('message', next);
    }
    if (state.buffer.size > 0) this.catchUp(message.chatId).catch(() => {});
  }

  /** Joins the chat's catch-up in flight, or starts one unless the chat is caught up already. */
  settle(chatId: string): Promise<void> {
    const state = this.#chats.get(chatId);
    return state?.syncing ?? (state?.settled ? Promise.resolve() : this.catchUp(chatId));
  }

  /**
   * Fetches everything after the chat's last delivered seq (and, when it is behind, the event log after
   * its lastEventSeq), page by page, retried with backoff until it succeeds (or the chat is dropped, or
   * the client closed). One run at a time per chat; a call during a run makes it go round once more.
   */
  catchUp(chatId: string): Promise<void> {
    const state = this.#chats.get(chatId);
    if (!state) return Promise.resolve();
    if (state.syncing) {
      state.again = true;
      return state.syncing;
    }
    const current = (): boolean => this.#chats.get(chatId) === state && !this.backoff.signal.aborted;
    const page = async (): Promise<void> => {
      for (let more = true; more && current();) {
        const result = await this.request<{ items: Message[]; nextCursor?: string }>(
          'GET',
          `${chatPath(chatId)}/messages?after=${state.lastSeq}&limit=100`,
        );
        for (const message of result.items) this.ingest(message);
        more = result.nextCursor !== undefined && result.items.length > 0;
      }
      if (state.target === undefined) return;
      // Envelopes also pushed live are dropped by id in envelope().
      for (let more = true, afterEvent = state.lastEventSeq; more && current();) {
        const result = await this.request<{ items: AnyEnvelope[]; nextAfterEvent: number; hasMore: boolean }>(
          'GET',
          `${chatPath(chatId)}/events?after=${state.lastSeq}&afterEvent=${afterEvent}`,
        );
        for (const envelope of result.items) this.envelope(envelope);
        afterEvent = result.nextAfterEvent;
        more = result.hasMore;
      }
      // A read that does not show an event known to exist yet (eventually consistent) is retried.
      if (state.lastEventSeq! < state.target) throw new Error('events missing');
      state.target = undefined;
    };
    const run = async (): Promise<void> => {
      do {
        state.again = false;
        await retry(page, {
          ...this.backoff,
          retryable: (error) => current() && isRetryable(error),
          onError: (error) => this.events.emit('error', error),
        });
      } while (state.again && current());
      state.settled = true;
    };
    state.syncing = run().finally(() => {
      state.syncing = undefined;
    });
    return state.syncing;
  }
}
