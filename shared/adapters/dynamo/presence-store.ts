/**
 * Presence counters: one item per user with the number of live connections (ADD ±1). The item's TTL
 * follows the latest connection, so a count left behind by a lost $disconnect expires with it.
 */
import { BatchGetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { PresenceStore } from '../../domain/ports.ts';
import type { TableContext } from './client.ts';
import { keys } from './keys.ts';

export class DynamoPresenceStore implements PresenceStore {
  constructor(private readonly table: TableContext) {}

  async change(tenantId: string, userId: string, delta: number, expiresAt: number): Promise<number> {
    const { Attributes: item } = await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.presence(tenantId, userId),
        UpdateExpression:
          delta > 0 ? 'ADD connections :delta SET entity = :entity, #ttl = :ttl' : 'ADD connections :delta',
        ExpressionAttributeValues: {
          ':delta': delta,
          ...(delta > 0 ? { ':entity': ENTITY.presence, ':ttl': expiresAt } : {}),
        },
        ...(delta > 0 ? { ExpressionAttributeNames: { '#ttl': 'ttl' } } : {}),
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Math.max(0, Number(item?.connections ?? 0));
  }

  async online(tenantId: string, userIds: readonly string[]): Promise<Set<string>> {
    const online = new Set<string>();
    const now = Math.floor(Date.now() / 1000);
    for (let start = 0; start < userIds.length; start += 100) {
      let pending = userIds.slice(start, start + 100).map((userId) => keys.presence(tenantId, userId));
      for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
        const result = await this.table.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table.tableName]: { Keys: pending } } }),
        );
        for (const item of result.Responses?.[this.table.tableName] ?? []) {
          // An expired item may linger until DynamoDB's TTL sweep removes it.
          if (Number(item.connections ?? 0) > 0 && Number(item.ttl ?? 0) > now) {
            online.add(String(item.pk).slice(`PRESENCE#${tenantId}#`.length));
          }
        }
        pending = (result.UnprocessedKeys?.[this.table.tableName]?.Keys ?? []) as typeof pending;
      }
    }
    return online;
  }
}
