/**
 * Realtime delivery: pushes through @connections — the stream fan-out to a chat's subscribers, chat
 * list changes to watchers, presence announcements. Connections themselves (tickets, $connect,
 * subscriptions) are ConnectionService's (shared/domain/connections.ts).
 */
import { type ChatFilter, matchesChat } from './chat-filter.ts';
import { listEnvelope, parseWatchFilter } from './chat-list-feed.ts';
import { presenceEnvelope } from './ephemeral.ts';
import type { ConnectionService } from './connections.ts';
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
}

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
    /** Subscribers and watchers to push to. */
    private readonly connections: Pick<ConnectionStore, 'subscribers' | 'watchers'>,
    /** Removes a connection whose push was answered 410. */
    private readonly sessions: Pick<ConnectionService, 'forget'>,
    private readonly chats: Pick<ChatStore, 'listForParticipant' | 'touchActivity'>,
    private readonly pusher: Pusher,
    private readonly config: RealtimeConfig,
    /** The tenant's set of agents online (GET /v1/stats); absent: not tracked. */
    private readonly stats?: Pick<StatsStore, 'setAgentOnline'>,
    /** Mentions: each user's live sockets, and the unread mentions kept on participant items. */
    private readonly mentions?: {
      readonly presence: Pick<PresenceStore, 'sockets'>;
      readonly chats: Pick<ChatStore, 'addMentions'>;
    },
  ) {}

  /**
   * A new message that mentions participants: each one's unread mentions count it (idempotent), and
   * each gets the `mention` envelope on every socket it has, subscribed to the chat or not, muted or
   * not (never the sender mentioning itself). Throws if a push failed for another reason than 410, so
   * the stream record is retried (clients drop duplicates by envelope id).
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
      this.push(connectionId, envelope),
    );
    return {
      delivered: outcomes.filter((o) => o === 'delivered').length,
      gone: outcomes.filter((o) => o === 'gone').length,
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
  async announcePresence(tenantId: string, transition: PresenceTransition): Promise<void> {
    if (transition.role === 'agent')
      await this.stats?.setAgentOnline(tenantId, transition.userId, transition.online);
    const chats = await this.chats.listForParticipant(tenantId, transition.userId, PRESENCE_CHATS);
    const customer = transition.role === 'visitor' || transition.role === 'user';
    await Promise.all([
      mapLimit(chats.items, 4, (chat) =>
        this.fanout(chat.chatId, presenceEnvelope(chat.chatId, tenantId, transition)).catch(() => ({
          delivered: 0,
          gone: 0,
        })),
      ),
      customer ? this.presenceToWatchers(tenantId, transition, chats.items) : undefined,
    ]);
  }

  /**
   * A customer's (visitor's or user's) transition to the live lists showing their chats: each watcher
   * gets the `presence` envelope of every chat of `chats` its filter matches. One Query of the tenant's
   * watchers (the one chat changes make too); best effort like the chat fan-out (a failed push is
   * skipped, a gone socket removed).
   */
  private async presenceToWatchers(
    tenantId: string,
    transition: PresenceTransition,
    chats: readonly ChatRecord[],
  ): Promise<void> {
    if (chats.length === 0) return;
    const watchers = await this.connections.watchers(tenantId).catch(() => []);
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
        return shown ? this.push(connectionId, shown) : ('skipped' as const);
      },
    );
    return {
      delivered: outcomes.filter((o) => o === 'delivered').length,
      gone: outcomes.filter((o) => o === 'gone').length,
    };
  }

  /** Posts one envelope to a connection; a gone connection is removed with its subscriptions. */
  async push(connectionId: string, envelope: Envelope): Promise<'delivered' | 'gone'> {
    const result = await this.pusher.post(connectionId, JSON.stringify(envelope));
    if (result === 'gone') await this.sessions.forget(connectionId);
    return result;
  }

  /**
   * The first envelope of a new connection (`connection.ready`), triggered by its connection item's
   * stream record. That record can arrive while API Gateway is still completing the $connect that wrote
   * it, and a post to a connection not yet open is answered 410 like a gone one: so a 410 here is
   * retried a few times (`delaysMs`) and never removes the connection — one really gone gets its
   * $disconnect, which does.
   */
  async greet(
    connectionId: string,
    envelope: Envelope,
    delaysMs: readonly number[] = GREET_RETRY_MS,
    sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  ): Promise<'delivered' | 'gone'> {
    const payload = JSON.stringify(envelope);
    for (const delay of [0, ...delaysMs]) {
      if (delay > 0) await sleep(delay);
      if ((await this.pusher.post(connectionId, payload)) === 'delivered') return 'delivered';
    }
    return 'gone';
  }

  /** The connections subscribed to a chat (one Query; the fan-out reads it once per chat and batch). */
  subscribers(chatId: string): Promise<string[]> {
    return this.connections.subscribers(chatId);
  }

  /**
   * Delivers an envelope (a new message, a chat event) to every socket subscribed to its chat (`targets`
   * when the caller has read them already). Throws if any push failed for a reason other than 410, so the
   * stream record is retried (clients drop duplicates by envelope id).
   */
  async fanout(
    chatId: string,
    envelope: Envelope,
    targets?: readonly string[],
    except?: string,
  ): Promise<SubscriberFanout> {
    const subscribed = targets ?? (await this.connections.subscribers(chatId));
    // `except`: the socket a message came over, whose ack carried it (docs/protocol.md, "Delivery").
    const connectionIds = except ? subscribed.filter((connectionId) => connectionId !== except) : subscribed;
    const outcomes = await mapLimit(connectionIds, this.config.fanoutConcurrency, (connectionId) =>
      this.push(connectionId, envelope).then(
        (result) => ({ connectionId, result }) as const,
        (error: unknown) => ({ error }) as const,
      ),
    );
    const failed = outcomes.find((outcome) => 'error' in outcome);
    if (failed && 'error' in failed) throw failed.error;
    const goneIds = outcomes.flatMap((o) => ('result' in o && o.result === 'gone' ? [o.connectionId] : []));
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
