/**
 * Presence: one item per user with the number of live connections, their ids (`sockets`, a string set
 * moved by the same writes: where a user's own envelopes such as mentions go) and the user's last
 * online/offline transition. The count moves by conditional writes so that the write which takes the user from 0 to 1
 * (or 1 to 0) is the very write that stores the transition: no second write, so racing tabs can never
 * leave a stored transition that disagrees with the count, and each transition is stored (and pushed)
 * by exactly one handler. The item's TTL follows the latest connection, so a count left behind by a
 * lost $disconnect expires with it (and the next connect counts as a first one again).
 */
import { UpdateCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { PresenceStore, PresenceTransition } from '../../domain/ports.ts';
import type { Role } from '../../domain/schemas.ts';
import { batchGetAll, isConditionFailed, type TableContext } from './client.ts';
import { keys } from './keys.ts';

/** Concurrent opens and closes of one user's tabs retry this often before giving up. */
const MAX_ATTEMPTS = 20;

type Update = Omit<UpdateCommandInput, 'TableName' | 'Key'>;

/** A stored transition (or a stream image's), if it is one. */
export const toTransition = (value: unknown): PresenceTransition | undefined => {
  const t = value as Partial<Record<keyof PresenceTransition, unknown>> | undefined;
  if (!t || typeof t.userId !== 'string' || typeof t.at !== 'string' || typeof t.id !== 'string') {
    return undefined;
  }
  return { userId: t.userId, role: t.role as Role, online: t.online === true, at: t.at, id: t.id };
};

export class DynamoPresenceStore implements PresenceStore {
  constructor(private readonly table: TableContext) {}

  /** True if the conditional update applied; otherwise the item as it was (undefined if none). */
  private async update(
    tenantId: string,
    userId: string,
    input: Update,
  ): Promise<true | { old?: Record<string, unknown> }> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          ...input,
          TableName: this.table.tableName,
          Key: keys.presence(tenantId, userId),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return error.Item ? { old: unmarshall(error.Item) } : {};
    }
  }

  /**
   * First connection: SET the count to 1 with the transition, if there is no live count (none, 0, or
   * expired). Otherwise ADD 1 if there is one. One of the two holds unless another tab moved the count
   * in between, and then the next round sees the new state. 1 WCU (2 for a second tab).
   */
  async open(
    tenantId: string,
    transition: PresenceTransition,
    expiresAt: number,
    connectionId: string,
  ): Promise<boolean> {
    const now = Math.floor(Date.parse(transition.at) / 1000);
    const names = { '#ttl': 'ttl', '#tr': 'transition' };
    const socket = new Set([connectionId]);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const first = await this.update(tenantId, transition.userId, {
        UpdateExpression:
          'SET connections = :one, entity = :entity, #ttl = :ttl, #tr = :transition, sockets = :socket',
        ConditionExpression:
          'attribute_not_exists(connections) OR connections < :one OR attribute_not_exists(#ttl) OR #ttl <= :now',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: {
          ':one': 1,
          ':now': now,
          ':ttl': expiresAt,
          ':entity': ENTITY.presence,
          ':transition': { ...transition },
          ':socket': socket,
        },
      });
      if (first === true) return true;
      const another = await this.update(tenantId, transition.userId, {
        UpdateExpression: 'ADD connections :one, sockets :socket SET #ttl = :ttl',
        ConditionExpression: 'connections >= :one AND #ttl > :now',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': 1, ':now': now, ':ttl': expiresAt, ':socket': socket },
      });
      if (another === true) return false;
    }
    throw new Error('presence count kept changing; giving up');
  }

  /**
   * Last connection: SET the count to 0 with the transition if it is exactly 1 (and not expired);
   * otherwise ADD -1 if it is above 1. Neither (no live count: nothing to count down) → false.
   */
  async close(tenantId: string, transition: PresenceTransition, connectionId: string): Promise<boolean> {
    const now = Math.floor(Date.parse(transition.at) / 1000);
    const socket = new Set([connectionId]);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const last = await this.update(tenantId, transition.userId, {
        UpdateExpression: 'SET connections = :zero, #tr = :transition REMOVE sockets',
        ConditionExpression: 'connections = :one AND #ttl > :now',
        ExpressionAttributeNames: { '#ttl': 'ttl', '#tr': 'transition' },
        ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':now': now, ':transition': { ...transition } },
      });
      if (last === true) return true;
      const fewer = await this.update(tenantId, transition.userId, {
        UpdateExpression: 'ADD connections :minus DELETE sockets :socket',
        ConditionExpression: 'connections > :one',
        ExpressionAttributeValues: { ':minus': -1, ':one': 1, ':socket': socket },
      });
      if (fewer === true) return false;
      const old = fewer.old;
      // Exactly 1 and live again means another tab changed it in between: try again.
      if (!old || Number(old.connections ?? 0) !== 1 || Number(old.ttl ?? 0) <= now) return false;
    }
    throw new Error('presence count kept changing; giving up');
  }

  private batchGet(
    tenantId: string,
    userIds: readonly string[],
    projection?: { expression: string; names: Record<string, string> },
  ): Promise<Record<string, unknown>[]> {
    return batchGetAll(
      this.table,
      userIds.map((userId) => keys.presence(tenantId, userId)),
      projection,
    );
  }

  async online(tenantId: string, userIds: readonly string[]): Promise<Set<string>> {
    const online = new Set<string>();
    const now = Math.floor(Date.now() / 1000);
    for (const item of await this.batchGet(tenantId, userIds)) {
      // An expired item may linger until DynamoDB's TTL sweep removes it.
      if (Number(item.connections ?? 0) > 0 && Number(item.ttl ?? 0) > now) {
        online.add(String(item.pk).slice(`PRESENCE#${tenantId}#`.length));
      }
    }
    return online;
  }

  async sockets(tenantId: string, userIds: readonly string[]): Promise<Map<string, string[]>> {
    const now = Math.floor(Date.now() / 1000);
    const found = new Map<string, string[]>();
    const items = await this.batchGet(tenantId, userIds, {
      expression: 'pk, sockets, #ttl',
      names: { '#ttl': 'ttl' },
    });
    for (const item of items) {
      if (!(item.sockets instanceof Set) || Number(item.ttl ?? 0) <= now) continue;
      found.set(String(item.pk).slice(`PRESENCE#${tenantId}#`.length), [...(item.sockets as Set<string>)]);
    }
    return found;
  }

  async transitions(tenantId: string, userIds: readonly string[]): Promise<PresenceTransition[]> {
    return (
      await this.batchGet(tenantId, userIds, { expression: '#tr', names: { '#tr': 'transition' } })
    ).flatMap((item) => {
      const transition = toTransition(item.transition);
      return transition ? [transition] : [];
    });
  }
}
