/**
 * Connections: single-use tickets, $connect / $disconnect, subscriptions and watches — table writes
 * only. Pushing to sockets is RealtimeService's (shared/domain/realtime.ts), so the functions that only
 * open, close or subscribe never load the @connections client.
 */
import { ForbiddenError, UnauthorizedError } from './errors.ts';
import { type Identity, isStaff } from './identity.ts';
import { newId, newSecret, sha256 } from './ids.ts';
import type {
  Clock,
  ConnectionStore,
  PresenceStore,
  PresenceTransition,
  StatsStore,
  TicketStore,
} from './ports.ts';

export interface ConnectionConfig {
  readonly ticketTtlSeconds: number;
  readonly connectionTtlSeconds: number;
  readonly publicUrl: string;
}

/** Who holds a connection: its connection item's identity; an unknown connection must reconnect. */
export const connectionIdentity = async (
  connections: Pick<ConnectionStore, 'get'>,
  connectionId: string,
): Promise<Identity> => {
  const connection = await connections.get(connectionId);
  if (!connection) throw new UnauthorizedError('unknown connection, reconnect with a new ticket');
  return connection.identity;
};

export class ConnectionService {
  constructor(
    private readonly tickets: TicketStore,
    private readonly connections: ConnectionStore,
    private readonly clock: Clock,
    private readonly config: ConnectionConfig,
    /** Live-connection counters (GET /v1/stats); absent: nothing counted. */
    private readonly stats?: Pick<StatsStore, 'addConnection'>,
    /** Per-user connection counts and transitions (presence); absent: no presence transitions. */
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
    // A first socket stores the user's `online` transition; the table stream announces it
    // (functions/stream/connections.ts), so $connect itself pushes nothing.
    await this.presence?.open(identity.tenantId, this.transition(identity, true), expiresAt, connectionId);
    try {
      await this.connections.put({
        connectionId,
        identity,
        connectedAt: this.clock.now().toISOString(),
        expiresAt: this.epoch() + this.config.connectionTtlSeconds,
      });
    } catch (error) {
      await this.stats?.addConnection(identity.tenantId, identity.role, -1);
      await this.presence?.close(identity.tenantId, this.transition(identity, false), connectionId);
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

  disconnect(connectionId: string): Promise<void> {
    return this.forget(connectionId);
  }

  /**
   * Removes a connection ($disconnect, or a push answered 410); only the call that actually removed it
   * counts it down (no drift on repeats).
   */
  async forget(connectionId: string): Promise<void> {
    const removed = await this.connections.remove(connectionId);
    if (!removed) return;
    await this.stats?.addConnection(removed.identity.tenantId, removed.identity.role, -1);
    // A last socket stores the `offline` transition; the table stream announces it.
    await this.presence?.close(
      removed.identity.tenantId,
      this.transition(removed.identity, false),
      connectionId,
    );
  }

  async subscribe(connectionId: string, chatId: string): Promise<void> {
    const connection = await this.connections.get(connectionId);
    if (!connection) throw new UnauthorizedError('unknown connection, reconnect with a new ticket');
    await this.connections.subscribe(connectionId, chatId, connection.expiresAt, connection.identity.userId);
  }

  unsubscribe(connectionId: string, chatId: string): Promise<void> {
    return this.connections.unsubscribe(connectionId, chatId);
  }

  /**
   * watchChats (agents, services): validates the filter with `validate` (chat-list-feed's
   * parseWatchFilter, like GET /v1/chats: passed in, so that the functions of this service that never
   * watch, $connect and $disconnect above all, do not load the chat filter and its schemas) and replaces
   * the previous one.
   */
  async watch(
    connectionId: string,
    identity: Identity,
    filter: Record<string, string>,
    validate: (filter: Record<string, string>) => unknown,
  ): Promise<void> {
    if (!isStaff(identity)) throw new ForbiddenError('live chat lists are for agents and services');
    validate(filter);
    const connection = await this.connections.get(connectionId);
    if (!connection) throw new UnauthorizedError('unknown connection, reconnect with a new ticket');
    await this.connections.watch(connectionId, identity.tenantId, filter, connection.expiresAt);
  }

  unwatch(connectionId: string, identity: Identity): Promise<void> {
    return this.connections.unwatch(connectionId, identity.tenantId);
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
}
