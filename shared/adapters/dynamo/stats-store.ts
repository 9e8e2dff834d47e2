/**
 * Per-tenant counters for GET /v1/stats: one `COUNTERS` item (live connections in total and per role,
 * open chats, the set of agents online) and one item per UTC day (messages). Every change is an `ADD` update — no read first,
 * no scan ever; concurrent writers never lose an increment.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { StatsCounters, StatsStore } from '../../domain/ports.ts';
import type { Role } from '../../domain/schemas.ts';
import { batchGetAll, type TableContext } from './client.ts';
import { keys } from './keys.ts';

/** Day items expire after this many days (the stats only report today). */
const DAY_RETENTION_DAYS = 35;

const count = (value: unknown): number => (typeof value === 'number' ? Math.max(0, value) : 0);
/** DynamoDB drops a string set that becomes empty. */
const sizeOf = (value: unknown): number => (value instanceof Set ? value.size : 0);

export class DynamoStatsStore implements StatsStore {
  constructor(private readonly table: TableContext) {}

  async addConnection(tenantId: string, role: Role, delta: number): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.statsCounters(tenantId),
        UpdateExpression: 'SET entity = :entity, tenantId = :tenant ADD connections :d, #role :d',
        ExpressionAttributeNames: { '#role': `${role}Connections` },
        ExpressionAttributeValues: { ':entity': ENTITY.stats, ':tenant': tenantId, ':d': delta },
      }),
    );
  }

  async setAgentOnline(tenantId: string, agentId: string, online: boolean): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.statsCounters(tenantId),
        UpdateExpression: `SET entity = :entity, tenantId = :tenant ${online ? 'ADD' : 'DELETE'} onlineAgents :id`,
        ExpressionAttributeValues: {
          ':entity': ENTITY.stats,
          ':tenant': tenantId,
          ':id': new Set([agentId]),
        },
      }),
    );
  }

  async addOpenChats(tenantId: string, delta: number): Promise<void> {
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.statsCounters(tenantId),
        UpdateExpression: 'SET entity = :entity, tenantId = :tenant ADD openChats :d',
        ExpressionAttributeValues: { ':entity': ENTITY.stats, ':tenant': tenantId, ':d': delta },
      }),
    );
  }

  async addMessages(tenantId: string, day: string, messages: number): Promise<void> {
    const expires = Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + DAY_RETENTION_DAYS * 86_400;
    await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.statsDay(tenantId, day),
        UpdateExpression: 'SET entity = :entity, tenantId = :tenant, #ttl = :ttl ADD messages :n',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':entity': ENTITY.stats,
          ':tenant': tenantId,
          ':ttl': expires,
          ':n': messages,
        },
      }),
    );
  }

  async counters(tenantId: string): Promise<StatsCounters> {
    const { Item: item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.statsCounters(tenantId) }),
    );
    return {
      connections: count(item?.connections),
      agentConnections: count(item?.agentConnections),
      agentsOnline: sizeOf(item?.onlineAgents),
      openChats: count(item?.openChats),
    };
  }

  /** Both items of a stats answer in one round trip. */
  async snapshot(tenantId: string, day: string): Promise<StatsCounters & { messages: number }> {
    const [counters, today] = await this.read([keys.statsCounters(tenantId), keys.statsDay(tenantId, day)]);
    return {
      connections: count(counters?.connections),
      agentConnections: count(counters?.agentConnections),
      agentsOnline: sizeOf(counters?.onlineAgents),
      openChats: count(counters?.openChats),
      messages: count(today?.messages),
    };
  }

  /** The items in the order of `wanted` (undefined where absent). */
  private async read(wanted: { pk: string; sk: string }[]): Promise<(Record<string, unknown> | undefined)[]> {
    const found = await batchGetAll(this.table, wanted);
    return wanted.map((key) => found.find((item) => item.pk === key.pk && item.sk === key.sk));
  }
}
