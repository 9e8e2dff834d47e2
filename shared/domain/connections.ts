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
  ConnectionRecord,
  ConnectionStore,
  PresenceStore,
  PresenceTransition,
  TicketStore,
} from './ports.ts';

export interface ConnectionConfig {
  readonly ticketTtlSeconds: number;
  readonly connectionTtlSeconds: number;
  readonly publicUrl: string;
  /**
   * A push answered 410 removes a connection only if it connected at least this long ago (default
   * OPENING_GRACE_SECONDS): see ConnectionService.forget.
   */
  readonly openingGraceSeconds?: number;
}

/**
 * How long after its `$connect` a connection may still be opening. API Gateway answers a post to a
 * connection whose `$connect` has not completed with 410, like a gone one: a push in that window (the
 * `mention` to every socket on the user's presence item, which lists a socket from its `$connect` on)
 * must not remove it. A connection that really went away in that window still gets its `$disconnect`,
 * and its items their TTL.
 */
export const OPENING_GRACE_SECONDS = 30;

/** A connection's item (who holds it, until when); an unknown connection must reconnect. */
export const connectionOf = async (
  connections: Pick<ConnectionStore, 'get'>,
  connectionId: string,
): Promise<ConnectionRecord> => {
  const connection = await connections.get(connectionId);
  if (!connection) throw new UnauthorizedError('unknown connection, reconnect with a new ticket');
  return connection;
};

export class ConnectionService {
  constructor(
    private readonly tickets: TicketStore,
    private readonly connections: ConnectionStore,
    private readonly clock: Clock,
    private readonly config: ConnectionConfig,
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
    // Presence and the connection item are independent writes, made together: a burst of connects (a
    // reconnect storm) waits one round trip less each. The connection item's stream record sends
    // connection.ready (a push during $connect is answered 410 and retried) and counts the connection
    // for GET /v1/stats. A first socket stores the user's `online` transition; the table stream
    // announces it (functions/stream/connections.ts), so $connect itself pushes nothing.
    const expiresAt = this.epoch() + this.config.connectionTtlSeconds;
    const [opened, stored] = await Promise.allSettled([
      this.presence?.open(identity.tenantId, this.transition(identity, true), expiresAt, connectionId),
      this.connections.put({
        connectionId,
        identity,
        connectedAt: this.clock.now().toISOString(),
        expiresAt,
      }),
    ]);
    if (opened.status === 'rejected' || stored.status === 'rejected') {
      // Undo the half that was written, then fail (the client dials again with a new ticket).
      await Promise.allSettled([
        opened.status === 'fulfilled' &&
          this.presence?.close(identity.tenantId, this.transition(identity, false), connectionId),
        stored.status === 'fulfilled' && this.connections.remove(connectionId),
      ]);
      throw opened.status === 'rejected' ? opened.reason : (stored as PromiseRejectedResult).reason;
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

  /** `$disconnect`: the connection goes, whatever its age. */
  disconnect(connectionId: string): Promise<void> {
    return this.removeConnection(connectionId);
  }

  /**
   * A push answered 410: removes the connection, unless it connected less than the opening grace ago
   * (OPENING_GRACE_SECONDS) — its socket may still be opening, and a 410 then does not mean gone.
   */
  forget(connectionId: string): Promise<void> {
    const graceMs = (this.config.openingGraceSeconds ?? OPENING_GRACE_SECONDS) * 1000;
    const connectedBefore = new Date(this.clock.now().getTime() - graceMs).toISOString();
    return this.removeConnection(connectionId, connectedBefore);
  }

  /**
   * Only the call that actually removed the connection closes its presence (no drift on repeats); the
   * item's removal, in the table stream, counts it down for GET /v1/stats. A last socket stores the
   * `offline` transition; the table stream announces it.
   */
  private async removeConnection(connectionId: string, connectedBefore?: string): Promise<void> {
    const removed = await this.connections.remove(
      connectionId,
      connectedBefore === undefined ? undefined : { connectedBefore },
    );
    if (!removed) return;
    await this.presence?.close(
      removed.identity.tenantId,
      this.transition(removed.identity, false),
      connectionId,
    );
  }

  /**
   * Subscribes a connection (its item, as the frame's middleware read it) to chats, each at the
   * membersVersion its access check read (shared/domain/access.ts `authorizeSubscription`).
   */
  async subscribe(
    connection: ConnectionRecord,
    chatIds: readonly string[],
    membersVersions?: ReadonlyMap<string, number>,
  ): Promise<void> {
    await this.connections.subscribe(
      connection.connectionId,
      chatIds,
      connection.expiresAt,
      connection.identity.userId,
      connection.identity.role,
      membersVersions,
    );
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
    connection: ConnectionRecord,
    filter: Record<string, string>,
    validate: (filter: Record<string, string>) => unknown,
  ): Promise<void> {
    const { connectionId, identity, expiresAt } = connection;
    if (!isStaff(identity)) throw new ForbiddenError('live chat lists are for agents and services');
    validate(filter);
    await this.connections.watch(connectionId, identity.tenantId, filter, expiresAt);
  }

  unwatch(connectionId: string, identity: Identity): Promise<void> {
    return this.connections.unwatch(connectionId, identity.tenantId);
  }
}
