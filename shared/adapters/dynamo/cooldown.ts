import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { Cooldown } from '../../domain/typing.ts';
import type { TableContext } from './client.ts';
import { keys } from './keys.ts';

/**
 * "At most one per interval" for a key: one conditional UpdateItem on `RATE#<key> / COOLDOWN` that moves
 * `until` forward only if it has passed (1 WCU, accepted or refused). Unlike a fixed window it never lets
 * two hits through across a window boundary. The item expires by TTL shortly after `until`.
 */
export class DynamoCooldown implements Cooldown {
  constructor(
    private readonly table: TableContext,
    private readonly now: () => number = Date.now,
  ) {}

  async take(key: string, intervalMs: number): Promise<boolean> {
    const now = this.now();
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: { pk: keys.rate(key, 0).pk, sk: 'COOLDOWN' },
          UpdateExpression: 'SET #until = :until, entity = :entity, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#until) OR #until <= :now',
          ExpressionAttributeNames: { '#until': 'until', '#ttl': 'ttl' },
          ExpressionAttributeValues: {
            ':now': now,
            ':until': now + intervalMs,
            ':entity': ENTITY.rateLimit,
            ':ttl': Math.ceil((now + intervalMs) / 1000) + 60,
          },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }
}
