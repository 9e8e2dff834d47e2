/**
 * Tenant statistics for agents and services (GET /v1/stats): live connections, agents online, open
 * chats and messages of the current UTC day. Everything is read from counters kept with `ADD` updates
 * from the table stream: connections by the connections consumer, one per tenant and role per batch
 * (`recordConnections`: connection items inserted and removed, whether by $disconnect, the 410 path or
 * their TTL); open chats by the fan-out (`record`), one per tenant per batch with changes, and messages
 * by the fan-out, one per tenant and day per tumbling window of its stream mapping
 * (functions/stream/fanout-counts.ts). The numbers trail the writes by the stream's lag, and messages by
 * up to a window more.
 */
import * as z from '../zod.ts';
import { ENTITY } from '../config/table.ts';
import { ForbiddenError } from './errors.ts';
import { isVoid } from './voids.ts';
import { type Identity, isStaff } from './identity.ts';
import type { Clock, StatsStore } from './ports.ts';
import type { Role } from './schemas.ts';

export const statsSchema = z.object({
  liveConnections: z.number().check(z.int(), z.minimum(0)),
  /** Distinct agents of the tenant with at least one live socket (several tabs count once). */
  agentsOnline: z.number().check(z.int(), z.minimum(0)),
  /** Live sockets of agents of the tenant (two tabs of one agent count twice). */
  agentConnections: z.number().check(z.int(), z.minimum(0)),
  openChats: z.number().check(z.int(), z.minimum(0)),
  /** Messages stored since 00:00 UTC of `day`. */
  messagesToday: z.number().check(z.int(), z.minimum(0)),
  /** The UTC day messagesToday counts, `yyyy-mm-dd`. */
  day: z.iso.date(),
});
export type Stats = z.infer<typeof statsSchema>;

/** What one batch of stream records changes: open chats per tenant, messages per tenant and UTC day. */
export interface StatsTally {
  readonly openChats: Map<string, number>;
  readonly messages: Map<string, { tenantId: string; day: string; count: number }>;
}

const emptyTally = (): StatsTally => ({ openChats: new Map(), messages: new Map() });

/** Live-connection changes of one batch, per tenant and role (`${tenantId}\n${role}`). */
export type ConnectionTally = Map<string, { tenantId: string; role: Role; delta: number }>;

/**
 * Tallies connection items from the table stream: one more per item inserted (`delta` 1), one less
 * per item removed (-1), netted per tenant and role.
 */
export const connectionTallyOf = (
  changes: readonly { readonly tenantId: string; readonly role: Role; readonly delta: 1 | -1 }[],
): ConnectionTally => {
  const tally: ConnectionTally = new Map();
  for (const { tenantId, role, delta } of changes) {
    const key = `${tenantId}\n${role}`;
    const entry = tally.get(key) ?? { tenantId, role, delta: 0 };
    entry.delta += delta;
    tally.set(key, entry);
  }
  return tally;
};

export const utcDay = (at: Date | string): string =>
  (typeof at === 'string' ? at : at.toISOString()).slice(0, 10);

/** Audit actions that open or close a chat (their records are inserted with the change). */
const statusActions: Record<string, number> = { 'chat.close': -1, 'chat.reopen': 1 };

/**
 * Tallies new items from the table stream: a message insert counts one message on the UTC day of its
 * createdAt; a chat's creation record is one open chat more; a close / reopen audit record one less / more.
 */
export const tallyOf = (items: readonly Record<string, unknown>[]): StatsTally => {
  const tally = emptyTally();
  for (const item of items) {
    const tenantId = item.tenantId;
    if (typeof tenantId !== 'string') continue;
    if (item.entity === ENTITY.message && typeof item.createdAt === 'string' && !isVoid(item)) {
      const day = utcDay(item.createdAt);
      const key = `${tenantId}\n${day}`;
      const entry = tally.messages.get(key) ?? { tenantId, day, count: 0 };
      entry.count++;
      tally.messages.set(key, entry);
    } else if (
      item.entity === ENTITY.chatCreated &&
      (item.data as { status?: unknown } | undefined)?.status === 'open'
    ) {
      tally.openChats.set(tenantId, (tally.openChats.get(tenantId) ?? 0) + 1);
    } else if (item.entity === ENTITY.audit && typeof item.action === 'string') {
      const delta = statusActions[item.action];
      if (delta) tally.openChats.set(tenantId, (tally.openChats.get(tenantId) ?? 0) + delta);
    }
  }
  return tally;
};

/**
 * A tally's messages as the state of a tumbling window (Lambda hands it from one invocation of the
 * window to the next as JSON): per tenant, per UTC day.
 */
export const messagesStateSchema = z.record(
  z.string(),
  z.record(z.iso.date(), z.number().check(z.int(), z.minimum(0))),
);
type MessagesState = z.infer<typeof messagesStateSchema>;

/** `a` and `b` together (neither is changed). */
export const addTallies = (a: StatsTally, b: StatsTally): StatsTally => {
  const sum = emptyTally();
  for (const tally of [a, b]) {
    for (const [tenantId, delta] of tally.openChats)
      sum.openChats.set(tenantId, (sum.openChats.get(tenantId) ?? 0) + delta);
    for (const [key, { tenantId, day, count }] of tally.messages) {
      const entry = sum.messages.get(key) ?? { tenantId, day, count: 0 };
      sum.messages.set(key, { ...entry, count: entry.count + count });
    }
  }
  return sum;
};

export const messagesToState = (tally: StatsTally): MessagesState => {
  const state: MessagesState = {};
  for (const { tenantId, day, count } of tally.messages.values()) (state[tenantId] ??= {})[day] = count;
  return state;
};

/** A tally of the messages in `state` (no open-chat changes). */
export const tallyOfMessagesState = (state: MessagesState): StatsTally => {
  const tally = emptyTally();
  for (const [tenantId, days] of Object.entries(state))
    for (const [day, count] of Object.entries(days))
      tally.messages.set(`${tenantId}\n${day}`, { tenantId, day, count });
  return tally;
};

export class StatsService {
  constructor(
    private readonly store: StatsStore,
    private readonly clock: Clock,
  ) {}

  async get(identity: Identity): Promise<Stats> {
    if (!isStaff(identity)) throw new ForbiddenError('stats are for agents and services');
    const day = utcDay(this.clock.now());
    const snapshot = await this.store.snapshot(identity.tenantId, day);
    return {
      liveConnections: snapshot.connections,
      agentsOnline: snapshot.agentsOnline,
      agentConnections: snapshot.agentConnections,
      openChats: snapshot.openChats,
      messagesToday: snapshot.messages,
      day,
    };
  }

  /** Distinct agents of a tenant online (the responders' "is anyone there"). */
  async agentsOnline(tenantId: string): Promise<number> {
    return (await this.store.counters(tenantId)).agentsOnline;
  }

  /** Applies a connection tally: one `ADD` per tenant and role whose count moved. */
  async recordConnections(tally: ConnectionTally): Promise<void> {
    await Promise.all(
      [...tally.values()]
        .filter(({ delta }) => delta !== 0)
        .map(({ tenantId, role, delta }) => this.store.addConnection(tenantId, role, delta)),
    );
  }

  /** Applies a tally: one `ADD` per tenant and day for messages, one per tenant for open chats. */
  async record(tally: StatsTally): Promise<void> {
    await Promise.all([
      ...[...tally.messages.values()].map(({ tenantId, day, count }) =>
        this.store.addMessages(tenantId, day, count),
      ),
      ...[...tally.openChats.entries()]
        .filter(([, delta]) => delta !== 0)
        .map(([tenantId, delta]) => this.store.addOpenChats(tenantId, delta)),
    ]);
  }
}
