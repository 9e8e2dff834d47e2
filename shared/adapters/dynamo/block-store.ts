/**
 * Blocks: `BLOCKS#<tenant>#<blocker> / BLOCKED#<userId>`, listed by a Query of the blocker's partition.
 * Each block and unblock also adds / removes the blocker in the blocked user's summary
 * `BLOCKS#<tenant>#<userId> / BLOCKERS` (a string set) in the same transaction, so the send check is one
 * consistent GetItem of the sender's summary — absent for a sender nobody has blocked.
 */
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { BlockStore, Page } from '../../domain/ports.ts';
import type { Block } from '../../domain/schemas.ts';
import {
  decodeCursor,
  encodeCursor,
  failedConditions,
  type TableContext,
  transactWithRetry,
} from './client.ts';
import { keys } from './keys.ts';

export class DynamoBlockStore implements BlockStore {
  constructor(private readonly table: TableContext) {}

  async put(
    tenantId: string,
    blockerId: string,
    blockedId: string,
    at: string,
  ): Promise<{ block: Block; created: boolean }> {
    try {
      await this.transact(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table.tableName,
                Item: {
                  ...keys.block(tenantId, blockerId, blockedId),
                  entity: ENTITY.block,
                  tenantId,
                  blockerId,
                  userId: blockedId,
                  blockedAt: at,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            { Update: this.summaryUpdate(tenantId, blockedId, 'ADD', blockerId) },
          ],
        }),
      );
      return { block: { userId: blockedId, blockedAt: at }, created: true };
    } catch (error) {
      if (!failedConditions(error)?.[0]) throw error;
    }
    // A repeat: keep the first blockedAt, and make sure the summary names the blocker (idempotent ADD).
    const [{ Item: existing }] = await Promise.all([
      this.table.doc.send(
        new GetCommand({
          TableName: this.table.tableName,
          Key: keys.block(tenantId, blockerId, blockedId),
          ConsistentRead: true,
        }),
      ),
      this.table.doc.send(new UpdateCommand(this.summaryUpdate(tenantId, blockedId, 'ADD', blockerId))),
    ]);
    const blockedAt = typeof existing?.blockedAt === 'string' ? existing.blockedAt : at;
    return { block: { userId: blockedId, blockedAt }, created: false };
  }

  async remove(tenantId: string, blockerId: string, blockedId: string): Promise<void> {
    await this.transact(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: this.table.tableName, Key: keys.block(tenantId, blockerId, blockedId) } },
          { Update: this.summaryUpdate(tenantId, blockedId, 'DELETE', blockerId) },
        ],
      }),
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

  async blockersOf(tenantId: string, userId: string): Promise<string[]> {
    const { Item: item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.blockers(tenantId, userId),
        ProjectionExpression: 'blockers',
        ConsistentRead: true,
      }),
    );
    const blockers: unknown = item?.blockers;
    return blockers instanceof Set ? [...blockers].filter((id): id is string => typeof id === 'string') : [];
  }

  /**
   * Concurrent blocks of one user touch the same summary item; DynamoDB cancels a transaction that
   * collides with another (TransactionConflict): retried a few times, then busy.
   */
  private transact(command: TransactWriteCommand): Promise<void> {
    return transactWithRetry(this.table, command, 'blocks of this user are changing too often, retry');
  }

  /** ADD / DELETE one blocker in the blocked user's summary set (DynamoDB drops a set that becomes empty). */
  private summaryUpdate(tenantId: string, blockedId: string, op: 'ADD' | 'DELETE', blockerId: string) {
    return {
      TableName: this.table.tableName,
      Key: keys.blockers(tenantId, blockedId),
      UpdateExpression:
        op === 'ADD'
          ? 'SET entity = :entity, tenantId = :tenant, userId = :user ADD blockers :blocker'
          : 'SET entity = :entity, tenantId = :tenant, userId = :user DELETE blockers :blocker',
      ExpressionAttributeValues: {
        ':entity': ENTITY.blockers,
        ':tenant': tenantId,
        ':user': blockedId,
        ':blocker': new Set([blockerId]),
      },
    };
  }
}
