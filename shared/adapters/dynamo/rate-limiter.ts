import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { RateLimiter } from '../../domain/ports.ts';
import { isConditionFailed, type TableContext } from './client.ts';
import { keys } from './keys.ts';

/** Fixed-window counter: one conditional update per hit, the item expires by TTL after its window. */
export class DynamoRateLimiter implements RateLimiter {
  constructor(private readonly table: TableContext) {}

  async hit(key: string, limit: number, windowSeconds: number): Promise<boolean> {
    const now = Math.floor(Date.now() / 1000);
    const window = Math.floor(now / windowSeconds);
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.rate(key, window),
          UpdateExpression: 'ADD hits :one SET entity = :entity, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(hits) OR hits < :limit',
          ExpressionAttributeNames: { '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':one': 1,
            ':limit': limit,
            ':entity': ENTITY.rateLimit,
            ':ttl': (window + 2) * windowSeconds,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw error;
    }
  }
}
