/**
 * Blocks: `BLOCKS#<tenant>#<blocker> / BLOCKED#<userId>`. Listing is a Query of the blocker's partition;
 * the send check is one BatchGet of the (participant, sender) keys.
 */
import { BatchGetCommand, DeleteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { BlockStore } from '../../domain/blocks.ts';
import type { Page } from '../../domain/ports.ts';
import type { Block } from '../../domain/schemas.ts';
import { decodeCursor, encodeCursor, type TableContext } from './client.ts';
import { keys } from './keys.ts';

const BATCH_GET_MAX = 100;

export class DynamoBlockStore implements BlockStore {
  constructor(private readonly table: TableContext) {}

  async put(
    tenantId: string,
    blockerId: string,
    blockedId: string,
    at: string,
  ): Promise<{ block: Block; created: boolean }> {
    const { Attributes: old } = await this.table.doc.send(
      new UpdateCommand({
        TableName: this.table.tableName,
        Key: keys.block(tenantId, blockerId, blockedId),
        UpdateExpression:
          'SET entity = :entity, tenantId = :tenant, blockerId = :blocker, userId = :user, blockedAt = if_not_exists(blockedAt, :at)',
        ExpressionAttributeValues: {
          ':entity': ENTITY.block,
          ':tenant': tenantId,
          ':blocker': blockerId,
          ':user': blockedId,
          ':at': at,
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const previous = typeof old?.blockedAt === 'string' ? old.blockedAt : undefined;
    return { block: { userId: blockedId, blockedAt: previous ?? at }, created: previous === undefined };
  }

  async remove(tenantId: string, blockerId: string, blockedId: string): Promise<void> {
    await this.table.doc.send(
      new DeleteCommand({ TableName: this.table.tableName, Key: keys.block(tenantId, blockerId, blockedId) }),
    );
  }

  async list(tenantId: string, blockerId: string, limit: number, cursor?: string): Promise<Page<Block>> {
    const pk = keys.block(tenantId, blockerId, '').pk;
    const result = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.BLOCKED_PREFIX },
        ProjectionExpression: 'pk, sk, userId, blockedAt',
        Limit: limit,
        ExclusiveStartKey: decodeCursor(cursor, { pk }),
      }),
    );
    const nextCursor = encodeCursor(result.LastEvaluatedKey);
    return {
      items: (result.Items ?? []).map((item) => ({
        userId: item.userId as string,
        blockedAt: item.blockedAt as string,
      })),
      ...(nextCursor ? { nextCursor } : {}),
    };
  }

  async blockersOf(tenantId: string, userId: string, blockerIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    const unique = [...new Set(blockerIds)];
    for (let start = 0; start < unique.length; start += BATCH_GET_MAX) {
      let pending: Record<string, unknown>[] = unique
        .slice(start, start + BATCH_GET_MAX)
        .map((blockerId) => keys.block(tenantId, blockerId, userId));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= 8) throw new Error('could not read blocks: throttled');
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
        const result = await this.table.doc.send(
          new BatchGetCommand({
            RequestItems: {
              [this.table.tableName]: { Keys: pending, ProjectionExpression: 'blockerId' },
            },
          }),
        );
        for (const item of result.Responses?.[this.table.tableName] ?? [])
          found.push(item.blockerId as string);
        pending = result.UnprocessedKeys?.[this.table.tableName]?.Keys ?? [];
      }
    }
    return found;
  }
}
