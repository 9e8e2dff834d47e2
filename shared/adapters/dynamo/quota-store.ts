/**
 * Quota windows and long-poll leases (shared/domain/quotas.ts): one item per key and window (or lease
 * period), one conditional `ADD` per counted request, so concurrent requests count exactly and a
 * refused one writes nothing. Items carry a TTL a little after their window: DynamoDB deletes them
 * later (TTL is lazy), but no request reads a past window's key again.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { QuotaStore } from '../../domain/quotas.ts';
import { isConditionFailed, type TableContext } from './client.ts';
import { keys } from './keys.ts';

/**
 * `hits + 1` on the item unless it holds `limit` already (then false, nothing written): the one counting
 * write of quotas, leases and the visitor rate limiter (rate-limiter.ts). The item expires at `expiresAt`.
 */
export const countBelow = async (
  table: TableContext,
  key: { pk: string; sk: string },
  limit: number,
  expiresAt: number,
): Promise<boolean> => {
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: key,
        UpdateExpression: 'ADD hits :one SET entity = :entity, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(hits) OR hits < :limit',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':limit': limit,
          ':entity': ENTITY.rateLimit,
          ':ttl': expiresAt,
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
};

export class DynamoQuotaStore implements QuotaStore {
  constructor(private readonly table: TableContext) {}

  take(key: string, windowStart: number, limit: number, expiresAt: number): Promise<boolean> {
    return countBelow(this.table, keys.quota(key, windowStart), limit, expiresAt);
  }

  acquire(key: string, period: number, bound: number, expiresAt: number): Promise<boolean> {
    return countBelow(this.table, keys.lease(key, period), bound, expiresAt);
  }

  async release(key: string, period: number): Promise<void> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.lease(key, period),
          UpdateExpression: 'ADD hits :minusOne',
          // Never below zero, and never re-creating an item TTL has already removed.
          ConditionExpression: 'hits > :zero',
          ExpressionAttributeValues: { ':minusOne': -1, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
    }
  }
}
