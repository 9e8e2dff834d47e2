/**
 * Realtime: single-use tickets, connections, subscriptions and the stream fan-out.
 */
import type { ChatFilter } from './chat-filter.ts';
import { listEnvelope, parseWatchFilter } from './chat-list-feed.ts';
import { presenceEnvelope } from './ephemeral.ts';
import { ForbiddenError, UnauthorizedError } from './errors.ts';
import { type Identity, isStaff } from './identity.ts';
import { newId, newSecret, sha256 } from './ids.ts';
import type {
  ChatRecord,
  ChatStore,
  Clock,
  ConnectionStore,
  PresenceStore,
  PresenceTransition,
  Pusher,
  StatsStore,
  TicketStore,
} from './ports.ts';
import type { Envelope } from './schemas.ts';

export interface RealtimeConfig {
  readonly ticketTtlSeconds: number;
  readonly connectionTtlSeconds: number;
  readonly publicUrl: string;
  readonly fanoutConcurrency: number;
}

/** Presence goes to the subscribers of this many of the user's most recent chats. */
const PRESENCE_CHATS = 25;

export interface FanoutResult {
  delivered: number;
  gone: number;
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

/** Who holds a connection: its connection item's identity; an unknown connection must reconnect. */
export const connectionIdentity = async (
  connections: Pick<ConnectionStore, 'get'>,
  connectionId: string,
): Promise<Identity> => {
  const connection = await connections.get(connectionId);
  if (!connection) throw new UnauthorizedError('unknown connection, reconnect with a new ticket');
  return connection.identity;
};

export class RealtimeService {
  constructor(
    private readonly tickets: TicketStore,
    private readonly connections: ConnectionStore,
    private readonly chats: ChatStore,
    private readonly pusher: Pusher,
    private readonly clock: Clock,
    private readonly config: RealtimeConfig,
    /** Live-connection counters (GET /v1/stats); absent: nothing counted. */
    private readonly stats?: Pick<StatsStore, 'addConnection' | 'setAgentOnline'>,
    /** Per-user connection counts and transitions (presence); absent: no presence envelopes. */
    private readonly presence?: Pick<PresenceStore, 'open' | 'close'>,
  ) {}

  private epoch(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  async issueTicket(identity: Identity): Promise<{ ticket: string; url: string; expiresAt: string }> {
    const ticket = newSecret();
    const expiresAt = this.epoch() + this.config.ticketTtlSeconds;
    await this.tickets.put(sha256(ticket), identity, expiresAt);
    return { ticket, url: this.config.publicUrl, expiresAt: new Date(expiresAt * 1000).toISOString() };
  }

  /** `$connect`: consumes the ticket (once) and records the connection; without one, 401 and nothing stored. */
  async connect(connectionId: string, ticket: string | undefined): Promise<Identity> {
    if (!ticket || ticket.length > 200)
      throw new UnauthorizedError('a ticket from POST /v1/realtime/tickets is required');
    const identity = await this.tickets.consume(sha256(ticket), this.epoch());
    if (!identity) throw new UnauthorizedError('the ticket is unknown, expired or already used');
    // Counted (and presence announced) before the connection item is written: that write must stay the
    // last step of $connect, since its stream record triggers connection.ready, which cannot reach a
    // socket still connecting.
    await this.stats?.addConnection(identity.tenantId, identity.role, 1);
    const expiresAt = this.epoch() + this.config.connectionTtlSeconds;
    const online = this.transition(identity, true);
    if (await this.presence?.open(identity.tenantId, online, expiresAt)) {
      await this.onPresenceChange(identity.tenantId, online);
    }
    try {
      await this.connections.put({
        connectionId,
        identity,
        connectedAt: this.clock.now().toISOString(),
        expiresAt: this.epoch() + this.config.connectionTtlSeconds,
      });
    } catch (error) {
      await this.stats?.addConnection(identity.tenantId, identity.role, -1);
      const offline = this.transition(identity, false);
      if (await this.presence?.close(identity.tenantId, offline)) {
        await this.onPresenceChange(identity.tenantId, offline).catch(() => undefined);
      }
      throw error;
    }
    return identity;
  }

  /** A candidate transition; stored (and announced) only if the count really moved 0→1 or 1→0. */
  private transition(identity: Identity, online: boolean): PresenceTransition {
    return {
      userId: identity.userId,
      role: identity.role,
      online,
      at: this.clock.now().toISOString(),
      id: newId('p', 12),
    };
  }

  /**
   * `presence` to the subscribers of the user's most recent chats when its first socket opens or its
   * last one closes (several tabs count as one): the transition just stored with the count, so pollers
   * (shared/domain/ephemeral.ts) build the same envelope from it. Best effort: a chat whose fan-out
   * fails is skipped, the participants' `online` flags in GET /v1/chats/{chatId} stay right; a gone
   * socket is removed. An agent's transition also moves the tenant's set of agents online (stats).
   */
  private async onPresenceChange(tenantId: string, transition: PresenceTransition): Promise<void> {
    if (transition.role === 'agent')
      await this.stats?.setAgentOnline(tenantId, transition.userId, transition.online);
    const chats = await this.chats.listForParticipant(tenantId, transition.userId, PRESENCE_CHATS);
    await mapLimit(chats.items, 4, (chat) =>
      this.fanout(chat.chatId, presenceEnvelope(chat.chatId, tenantId, transition)).catch(() => ({
        delivered: 0,
        gone: 0,
      })),
    );
  }

  disconnect(connectionId: string): Promise<void> {
    return this.forget(connectionId);
  }

  /** Removes a connection; only the call that actually removed it counts it down (no drift on repeats). */
  private async forget(connectionId: string): Promise<void> {
    const removed = await this.connections.remove(connectionId);
    if (!removed) return;
    await this.stats?.addConnection(removed.identity.tenantId, removed.identity.role, -1);
    const offline = this.transition(removed.identity, false);
    if (await this.presence?.close(removed.identity.tenantId, offline)) {
      await this.onPresenceChange(removed.identity.tenantId, offline);
    }
  }

  async subscribe(connectionId: string, chatId: string): Promise<void> {
    const connection = await this.connections.get(connectionId);
    if (!connection) throw new UnauthorizedError('unknown connection, reconnect with a new ticket');
    await this.connections.subscribe(connectionId, chatId, connection.expiresAt, connection.identity.userId);
  }

  unsubscribe(connectionId: string, chatId: string): Promise<void> {
    return this.connections.unsubscribe(connectionId, chatId);
  }

  /** watchChats (agents, services): validates the filter like GET /v1/chats and replaces the previous one. */
  async watch(connectionId: string, identity: Identity, filter: Record<string, string>): Promise<void> {
    if (!isStaff(identity)) throw new ForbiddenError('live chat lists are for agents and services');
    parseWatchFilter(filter);
    const connection = await this.connections.get(connectionId);
    if (!connection) throw new UnauthorizedError('unknown connection, reconnect with a new ticket');
    await this.connections.watch(connectionId, identity.tenantId, filter, connection.expiresAt);
  }

  unwatch(connectionId: string, identity: Identity): Promise<void> {
    return this.connections.unwatch(connectionId, identity.tenantId);
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

  /** A user removed from a chat stops receiving it on every socket at once. */
  async dropUser(chatId: string, userId: string): Promise<void> {
    const subscribed = await this.connections.subscriberUsers(chatId);
    await Promise.all(
      subscribed
        .filter((subscription) => subscription.userId === userId)
        .map((subscription) => this.connections.unsubscribe(subscription.connectionId, chatId)),
    );
  }

  /** Posts one envelope to a connection; a gone connection is removed with its subscriptions. */
  async push(connectionId: string, envelope: Envelope): Promise<'delivered' | 'gone'> {
    const result = await this.pusher.post(connectionId, JSON.stringify(envelope));
    if (result === 'gone') await this.forget(connectionId);
    return result;
  }

  /**
   * Delivers an envelope (a new message, a chat event) to every socket subscribed to its chat. Throws if any push failed for a
   * reason other than 410, so the stream record is retried (clients drop duplicates by envelope id).
   */
  async fanout(chatId: string, envelope: Envelope): Promise<FanoutResult> {
    const targets = await this.connections.subscribers(chatId);
    const outcomes = await mapLimit(targets, this.config.fanoutConcurrency, (connectionId) =>
      this.push(connectionId, envelope).then(
        (result) => ({ result }) as const,
        (error: unknown) => ({ error }) as const,
      ),
    );
    const failed = outcomes.find((outcome) => 'error' in outcome);
    if (failed && 'error' in failed) throw failed.error;
    return {
      delivered: outcomes.filter((o) => 'result' in o && o.result === 'delivered').length,
      gone: outcomes.filter((o) => 'result' in o && o.result === 'gone').length,
    };
  }

  /** Lists follow activity: the chat moves up the tenant's and each participant's list. */
  touch(chatId: string, lastActivityAt: string): Promise<void> {
    return this.chats.touchActivity(chatId, lastActivityAt);
  }
}
