/**
 * Realtime delivery: pushes through @connections — the stream fan-out to a chat's subscribers, chat
 * list changes to watchers, presence announcements. Connections themselves (tickets, $connect,
 * subscriptions) are ConnectionService's (shared/domain/connections.ts).
 */
import { type ChatFilter, matchesChat } from './chat-filter.ts';
import { listEnvelope, parseWatchFilter } from './chat-list-feed.ts';
import { presenceEnvelope } from './ephemeral.ts';
import type { ConnectionService } from './connections.ts';
import { ChatAudience, entitledSubscribers, type Subscriber } from './delivery-scope.ts';
import { type PresenceReads, presenceReads } from './presence-reads.ts';
import { frameOf } from './envelope-size.ts';
import { mentionedBy, mentionEnvelope } from './envelopes.ts';
import type {
  ChatStore,
  ConnectionStore,
  PresenceStore,
  PresenceTransition,
  Pusher,
  StatsStore,
} from './ports.ts';
import type { ChatRecord, Envelope, Message } from './schemas.ts';

export interface RealtimeConfig {
  readonly fanoutConcurrency: number;
  /**
   * Pauses before each retry of a push that failed (429, 5xx, time-out): then the connection is closed
   * (RealtimeService.push). Default PUSH_RETRY_MS.
   */
  readonly pushRetryDelaysMs?: readonly number[];
  /** Tests: how a retry waits (default setTimeout). */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Tests: the time retries are measured by (default Date.now). */
  readonly clock?: () => number;
}

/** A failed push is tried again after these pauses, then its connection is closed. */
export const PUSH_RETRY_MS = [100, 300];
/** Retries start only within this long of the first attempt (a hung post is not retried). */
export const PUSH_RETRY_WITHIN_MS = 1_000;

/**
 * What became of a push: delivered; the connection was gone (410, now removed); or the push kept failing
 * and the connection was closed so its client reconnects and catches up ("deliver or disconnect").
 */
export type PushOutcome = 'delivered' | 'gone' | 'disconnected';

/** connection.ready retries while the socket's $connect is still completing (RealtimeService.greet). */
const GREET_RETRY_MS = [50, 100, 200, 400, 800];

/** Presence goes to the subscribers of this many of the user's most recent chats. */
const PRESENCE_CHATS = 25;

export interface FanoutResult {
  delivered: number;
  gone: number;
}

/** A chat's fan-out: also which connections were gone (410, removed), for a caller that reuses its targets. */
export interface SubscriberFanout extends FanoutResult {
  readonly goneIds: readonly string[];
}

/** Runs `task` over `items` with at most `limit` in flight. */
export const mapLimit = async <T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>,
): Promise<R[]> => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

export class RealtimeService {
  constructor(
    /** Subscribers (with their user, for the entitlement check) and watchers to push to. */
    private readonly connections: Pick<ConnectionStore, 'subscriberUsers' | 'watchers'> &
      Partial<Pick<ConnectionStore, 'get'>>,
    /** Removes a connection whose push was answered 410. */
    private readonly sessions: Pick<ConnectionService, 'forget'>,
    /** `participants`: who is still entitled to a chat's envelopes (shared/domain/delivery-scope.ts). */
    private readonly chats: Pick<ChatStore, 'listForParticipant' | 'touchActivity' | 'participants'>,
    private readonly pusher: Pusher,
    private readonly config: RealtimeConfig,
    /** The tenant's set of agents online (GET /v1/stats); absent: not tracked. */
    private readonly stats?: Pick<StatsStore, 'setAgentOnline'>,
    /** Each user's live sockets (mentions, removals), and the unread mentions kept on participant items. */
    private readonly mentions?: {
      readonly presence: Pick<PresenceStore, 'sockets'>;
      readonly chats: Pick<ChatStore, 'addMentions'>;
    },
  ) {}

  /**
   * A new message that mentions participants: each one's unread mentions count it (idempotent), and
   * each gets the `mention` envelope on every socket it has, subscribed to the chat or not, muted or
   * not (never the sender mentioning itself). Throws if a push failed and its connection could not be
   * closed (deliver), so the stream record is retried (clients drop duplicates by envelope id).
   */
  async notifyMentions(message: Message): Promise<FanoutResult> {
    const userIds = mentionedBy(message);
    if (!this.mentions || userIds.length === 0) return { delivered: 0, gone: 0 };
    await this.mentions.chats.addMentions(message.chatId, userIds, message.seq);
    const sockets = await this.mentions.presence.sockets(message.tenantId, userIds);
    const pushes = [...sockets].flatMap(([userId, connectionIds]) =>
      connectionIds.map((connectionId) => ({ connectionId, envelope: mentionEnvelope(message, userId) })),
    );
    const outcomes = await mapLimit(pushes, this.config.fanoutConcurrency, ({ connectionId, envelope }) =>
      this.deliver(connectionId, envelope),
    );
    return {
      delivered: outcomes.filter((o) => o === 'delivered').length,
      gone: outcomes.filter((o) => o !== 'delivered').length,
    };
  }

  /**
   * `presence` to the subscribers of the user's most recent chats when its first socket opened or its
   * last one closed (several tabs count as one): called by the table stream's presence consumer with
   * the transition stored with the count, from which pollers (shared/domain/ephemeral.ts) build the
   * same envelope. Best effort per chat: a chat whose fan-out fails is skipped, the participants'
   * `online` flags in GET /v1/chats/{chatId} stay right; a gone socket is removed. An agent's
   * transition also moves the tenant's set of agents online (stats).
   */
  async announcePresence(
    tenantId: string,
    transition: PresenceTransition,
    reads: PresenceReads = this.presenceReads(),
  ): Promise<void> {
    if (transition.role === 'agent')
      await this.stats?.setAgentOnline(tenantId, transition.userId, transition.online);
    const chats = await this.chats.listForParticipant(tenantId, transition.userId, PRESENCE_CHATS);
    const customer = transition.role === 'visitor' || transition.role === 'user';
    await Promise.all([
      mapLimit(chats.items, 4, async (chat) => {
        try {
          const envelope = presenceEnvelope(chat.chatId, tenantId, transition);
          const targets = await reads.subscribers(chat.chatId);
          const { goneIds } = await this.fanout(chat.chatId, envelope, targets, undefined, {
            bestEffort: true,
          });
          if (goneIds.length > 0) reads.forget(chat.chatId, goneIds);
        } catch {
          // Best effort: this chat is skipped.
        }
      }),
      customer ? this.presenceToWatchers(tenantId, transition, chats.items, reads) : undefined,
    ]);
  }

  /** The reads one stream batch's presence announcements share (presence-reads.ts). */
  presenceReads(): PresenceReads {
    return presenceReads(
      (chatId) => this.subscribers(chatId),
      (tenantId) => this.connections.watchers(tenantId),
    );
  }

  /**
   * A customer's (visitor's or user's) transition to the live lists showing their chats: each watcher
   * gets the `presence` envelope of every chat of `chats` its filter matches. The tenant's watchers come
   * from `reads` (one Query per stream batch, the one chat changes make too); best effort like the chat
   * fan-out (a failed push is skipped, a gone socket removed).
   */
  private async presenceToWatchers(
    tenantId: string,
    transition: PresenceTransition,
    chats: readonly ChatRecord[],
    reads: PresenceReads,
  ): Promise<void> {
    if (chats.length === 0) return;
    const watchers = await reads.watchers(tenantId);
    const pushes = watchers.flatMap(({ connectionId, filter }) => {
      let parsed: ChatFilter;
      try {
        parsed = parseWatchFilter(filter);
      } catch {
        return [];
      }
      return chats
        .filter((chat) => matchesChat(chat, parsed))
        .map((chat) => ({ connectionId, envelope: presenceEnvelope(chat.chatId, tenantId, transition) }));
    });
    await mapLimit(pushes, this.config.fanoutConcurrency, ({ connectionId, envelope }) =>
      this.push(connectionId, envelope).catch(() => 'skipped' as const),
    );
  }

  /**
   * Chat list changes to the tenant's watchers: a chat matching a watcher's filter after the change is
   * sent as is; one that matched before but not after is sent with `leftFilter: true` (`listEnvelope`,
   * which GET /v1/chats/changes applies to the same changes for pollers).
   */
  async notifyWatchers(
    tenantId: string,
    envelope: Envelope,
    after: ChatRecord,
    before?: ChatRecord,
  ): Promise<FanoutResult> {
    const watchers = await this.connections.watchers(tenantId);
    const outcomes = await mapLimit(
      watchers,
      this.config.fanoutConcurrency,
      async ({ connectionId, filter }) => {
        let parsed: ChatFilter;
        try {
          parsed = parseWatchFilter(filter);
        } catch {
          return 'skipped' as const;
        }
        const shown = listEnvelope(parsed, envelope, after, before);
        return shown ? this.deliver(connectionId, shown) : ('skipped' as const);
      },
    );
    return {
      delivered: outcomes.filter((o) => o === 'delivered').length,
      gone: outcomes.filter((o) => o === 'gone' || o === 'disconnected').length,
    };
  }

  /**
   * Posts one envelope to a connection, once (typing, presence: best effort); a gone connection (410) is
   * removed with its subscriptions. Throws when the post fails otherwise.
   */
  async push(connectionId: string, envelope: Envelope): Promise<'delivered' | 'gone'> {
    return this.pushFrame(connectionId, frameOf(envelope));
  }

  /** `push` of an envelope's frame (`frameOf`), made once for all the sockets it goes to. */
  private async pushFrame(connectionId: string, frame: string): Promise<'delivered' | 'gone'> {
    const result = await this.pusher.post(connectionId, frame);
    if (result === 'gone') await this.sessions.forget(connectionId);
    return result;
  }

  /**
   * Delivers one envelope of the chat's record (messages, chat events, mentions, list changes); a gone
   * connection (410) is removed with its subscriptions. Deliver or disconnect: a post that fails otherwise (429, 5xx, time-out) is tried again after each
   * of `pushRetryDelaysMs`, and if it still fails the connection is closed (DELETE @connections): its
   * client reconnects and catches up, so a connected client is never left without a message. Throws
   * only when the close fails too (the stream then retries the record; clients drop duplicates by id).
   */
  async deliver(connectionId: string, envelope: Envelope): Promise<PushOutcome> {
    return this.deliverFrame(connectionId, frameOf(envelope));
  }

  /**
   * `deliver` of an envelope's frame (`frameOf`: its JSON, or over the frame limit a "fetch it" notice),
   * made once for all the sockets it goes to.
   */
  private async deliverFrame(connectionId: string, payload: string): Promise<PushOutcome> {
    const sleep = this.config.sleep ?? ((ms: number) => new Promise((resolve) => setTimeout(resolve, ms)));
    const clock = this.config.clock ?? Date.now;
    const started = clock();
    for (const delay of [0, ...(this.config.pushRetryDelaysMs ?? PUSH_RETRY_MS)]) {
      // A post that hung until its time-out is not tried again: the socket is closed at once, so the
      // client's reconnect and catch-up start seconds earlier (the 10 s liveness bound, docs/reliability.md).
      if (delay > 0 && clock() - started > PUSH_RETRY_WITHIN_MS) break;
      if (delay > 0) await sleep(delay);
      let result: 'delivered' | 'gone';
      try {
        result = await this.pusher.post(connectionId, payload);
      } catch {
        continue;
      }
      if (result === 'gone') await this.sessions.forget(connectionId);
      return result;
    }
    // Its $disconnect removes the connection; a 410 means it had gone meanwhile.
    if ((await this.pusher.disconnect(connectionId)) === 'gone') await this.sessions.forget(connectionId);
    return 'disconnected';
  }

  /**
   * The first envelope of a new connection (`connection.ready`), triggered by its connection item's
   * stream record. That record can arrive while API Gateway is still completing the $connect that wrote
   * it, and a post to a connection not yet open is answered 410 like a gone one: so a 410 here is
   * retried a few times (`delaysMs`) and never removes the connection — one really gone gets its
   * $disconnect, which does. Other failures are retried the same way; if the last try failed so, throws
   * (the stream retries the record).
   */
  async greet(
    connectionId: string,
    envelope: Envelope,
    delaysMs: readonly number[] = GREET_RETRY_MS,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ): Promise<'delivered' | 'gone'> {
    const payload = JSON.stringify(envelope);
    let failure: unknown;
    let errors = 0;
    for (const delay of [0, ...delaysMs]) {
      if (delay > 0) await sleep(delay);
      try {
        if ((await this.pusher.post(connectionId, payload)) === 'delivered') return 'delivered';
        failure = undefined;
        // A 410 for a connection its $disconnect has removed already: gone, not opening — no more
        // waiting (a storm's dropped sockets would otherwise hold the stream batch for every retry).
        if (this.connections.get && !(await this.connections.get(connectionId))) return 'gone';
      } catch (error) {
        // 429, 5xx, a time-out: tried again like a 410 (the pusher makes one attempt per call), twice.
        failure = error;
        if (++errors > 2) throw error;
      }
    }
    if (failure !== undefined) throw failure;
    return 'gone';
  }

  /**
   * The subscribers of a chat that may still receive it: one Query of its subscriptions and, only when a
   * visitor or user is among them, one consistent read of its participants — a user removed from the
   * chat is skipped even if a subscription outlived the removal (shared/domain/delivery-scope.ts). Every
   * push to a chat's subscribers (messages, chat events, presence, typing) goes through it.
   */
  async entitledSubscribers(chatId: string): Promise<Subscriber[]> {
    return entitledSubscribers(await this.connections.subscriberUsers(chatId), () =>
      this.participantIds(chatId),
    );
  }

  /**
   * The fan-out's view of a chat for one batch (shared/domain/delivery-scope.ts `ChatAudience`): the
   * subscriptions read once, the participants only for a record whose membersVersion does not match
   * every visitor's or user's subscription.
   */
  audience(chatId: string): ChatAudience {
    return new ChatAudience({
      subscriptions: () => this.connections.subscriberUsers(chatId),
      participantIds: () => this.participantIds(chatId),
    });
  }

  /** The chat's participants, read consistently (after every committed removal). */
  private async participantIds(chatId: string): Promise<string[]> {
    return (await this.chats.participants(chatId, { consistent: true })).map(
      (participant) => participant.userId,
    );
  }

  /** The connection ids of `entitledSubscribers` (the fan-out reads them once per chat and batch). */
  async subscribers(chatId: string): Promise<string[]> {
    return (await this.entitledSubscribers(chatId)).map((subscriber) => subscriber.connectionId);
  }

  /**
   * A `chat.updated` that removed visitors or users: they are no longer subscribers the fan-out may
   * push to, yet their open apps must learn it. Each removed one gets the envelope once on every socket
   * it has (`except` those the chat's fan-out reached). Best effort like presence: a removed user's app
   * also learns it from its next read (403/404).
   */
  async notifyRemoved(
    tenantId: string,
    userIds: readonly string[],
    envelope: Envelope,
    except: readonly string[] = [],
  ): Promise<FanoutResult> {
    if (!this.mentions || userIds.length === 0) return { delivered: 0, gone: 0 };
    const skip = new Set(except);
    const sockets = await this.mentions.presence.sockets(tenantId, userIds);
    const targets = [...sockets.values()].flat().filter((connectionId) => !skip.has(connectionId));
    const frame = frameOf(envelope);
    const outcomes = await mapLimit(targets, this.config.fanoutConcurrency, (connectionId) =>
      this.pushFrame(connectionId, frame).catch(() => 'skipped' as const),
    );
    return {
      delivered: outcomes.filter((o) => o === 'delivered').length,
      gone: outcomes.filter((o) => o === 'gone').length,
    };
  }

  /**
   * Delivers an envelope (a new message, a chat event) to every socket subscribed to its chat (`targets`
   * when the caller has read them already). A socket whose push kept failing is closed (deliver); throws
   * only if closing it failed too, so the stream record is retried (clients drop duplicates by envelope id).
   */
  async fanout(
    chatId: string,
    envelope: Envelope,
    targets?: readonly string[],
    except?: string,
    /** Presence: one try per socket (push), no retry or close. */
    options: { bestEffort?: boolean } = {},
  ): Promise<SubscriberFanout> {
    const subscribed = targets ?? (await this.subscribers(chatId));
    // `except`: the socket a message came over, whose ack carried it (docs/protocol.md, "Delivery").
    const connectionIds = except ? subscribed.filter((connectionId) => connectionId !== except) : subscribed;
    const frame = frameOf(envelope);
    const outcomes = await mapLimit(connectionIds, this.config.fanoutConcurrency, (connectionId) =>
      (options.bestEffort
        ? this.pushFrame(connectionId, frame)
        : this.deliverFrame(connectionId, frame)
      ).then(
        (result) => ({ connectionId, result }) as const,
        (error: unknown) => ({ error }) as const,
      ),
    );
    const failed = outcomes.find((outcome) => 'error' in outcome);
    if (failed && 'error' in failed) throw failed.error;
    // A closed connection is left out of the chat's later records too (its client catches up).
    const goneIds = outcomes.flatMap((o) =>
      'result' in o && o.result !== 'delivered' ? [o.connectionId] : [],
    );
    return {
      delivered: outcomes.filter((o) => 'result' in o && o.result === 'delivered').length,
      gone: goneIds.length,
      goneIds,
    };
  }

  /** Lists follow activity: the chat moves up the tenant's and each participant's list. */
  touch(chatId: string, lastActivityAt: string): Promise<void> {
    return this.chats.touchActivity(chatId, lastActivityAt);
  }
}
