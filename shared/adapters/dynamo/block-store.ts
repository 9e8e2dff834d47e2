/**
 * Blocks: `BLOCKS#<tenant>#<blocker> / BLOCKED#<userId>`, listed by a Query of the blocker's partition.
 * Each block and unblock also adds / removes the blocker in the blocked user's summary
 * `BLOCKS#<tenant>#<userId> / BLOCKERS` (a string set) in the same transaction, so the send check is one
 * consistent GetItem of the sender's summary — absent for a sender nobody has blocked.
 *
 * Bounds (sock-puppet visitors must not fill an item towards DynamoDB's 400 KB): the summary names at
 * most `SUMMARY_MAX` blockers, then says `overflow` and the send check reads the chat's participants'
 * block items instead (`hasBlocked`); a blocker's own blocks are counted in `BLOCKS#<tenant>#<blocker>
 * / COUNT`, checked in the same transaction (ConflictError past the limit). Blocks made before the count
 * existed are not in it.
 */
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import { ConflictError } from '../../domain/errors.ts';
import type { BlockStore, Page } from '../../domain/ports.ts';
import type { Block } from '../../domain/schemas.ts';
import {
  batchGetAll,
  decodeCursor,
  encodeCursor,
  failedConditions,
  isConditionFailed,
  type TableContext,
  transactWithRetry,
} from './client.ts';
import { keys } from './keys.ts';

/** Blockers named in one user's summary item; past it the summary says `overflow`. */
export const SUMMARY_MAX = 200;
/** A blocker's blocks when the domain names no limit. */
export const DEFAULT_MAX_BLOCKS = 1000;

export class DynamoBlockStore implements BlockStore {
  constructor(
    private readonly table: TableContext,
    /** Blockers a summary names before it overflows (tests use a small one). */
    private readonly summaryMax: number = SUMMARY_MAX,
  ) {}

  async put(
    tenantId: string,
    blockerId: string,
    blockedId: string,
    at: string,
    maxBlocks: number = DEFAULT_MAX_BLOCKS,
  ): Promise<{ block: Block; created: boolean }> {
    const block = {
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
    };
    const count = { Update: this.countUpdate(tenantId, blockerId, 1, maxBlocks) };
    const summary = this.summaryUpdate(tenantId, blockedId, 'ADD', blockerId);
    for (const summaryItem of [{ Update: summary }, { Update: this.overflowUpdate(tenantId, blockedId) }]) {
      try {
        await this.transact(new TransactWriteCommand({ TransactItems: [block, count, summaryItem] }));
        return { block: { userId: blockedId, blockedAt: at }, created: true };
      } catch (error) {
        const [exists, full, summaryFull] = failedConditions(error) ?? [];
        if (exists) break;
        if (full) throw new ConflictError(`a block list holds at most ${maxBlocks} users: unblock one first`);
        if (!summaryFull) throw error;
        // The summary is full: record the block, and mark the summary as not naming every blocker.
      }
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
      this.table.doc
        .send(new UpdateCommand(summary))
        .catch((error: unknown) =>
          isConditionFailed(error)
            ? this.table.doc.send(new UpdateCommand(this.overflowUpdate(tenantId, blockedId)))
            : Promise.reject(error),
        ),
    ]);
    const blockedAt = typeof existing?.blockedAt === 'string' ? existing.blockedAt : at;
    return { block: { userId: blockedId, blockedAt }, created: false };
  }

  async remove(tenantId: string, blockerId: string, blockedId: string): Promise<boolean> {
    try {
      await this.transact(
        new TransactWriteCommand({
          TransactItems: [
            {
              Delete: {
                TableName: this.table.tableName,
                Key: keys.block(tenantId, blockerId, blockedId),
                ConditionExpression: 'attribute_exists(pk)',
              },
            },
            { Update: this.countUpdate(tenantId, blockerId, -1) },
            { Update: this.summaryUpdate(tenantId, blockedId, 'DELETE', blockerId) },
          ],
        }),
      );
      return true;
    } catch (error) {
      // No such block: nothing to remove (and nothing to count).
      if (!failedConditions(error)?.[0]) throw error;
      return false;
    }
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

  async blockersOf(tenantId: string, userId: string): Promise<{ blockers: string[]; overflow: boolean }> {
    const { Item: item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.blockers(tenantId, userId),
        ProjectionExpression: 'blockers, overflow',
        ConsistentRead: true,
      }),
    );
    const blockers: unknown = item?.blockers;
    return {
      blockers:
        blockers instanceof Set ? [...blockers].filter((id): id is string => typeof id === 'string') : [],
      overflow: item?.overflow === true,
    };
  }

  async hasBlocked(tenantId: string, blockerIds: readonly string[], userId: string): Promise<boolean> {
    const items = await batchGetAll(
      this.table,
      [...new Set(blockerIds)].map((blockerId) => keys.block(tenantId, blockerId, userId)),
      { expression: 'pk' },
    );
    return items.length > 0;
  }

  /**
   * Concurrent blocks of one user touch the same summary item; DynamoDB cancels a transaction that
   * collides with another (TransactionConflict): retried a few times, then busy.
   */
  private transact(command: TransactWriteCommand): Promise<void> {
    return transactWithRetry(this.table, command, 'blocks of this user are changing too often, retry');
  }

  /** `by` blocks more in the blocker's count; an increase only while the count is below `max`. */
  private countUpdate(tenantId: string, blockerId: string, by: 1 | -1, max?: number) {
    return {
      TableName: this.table.tableName,
      Key: { pk: keys.block(tenantId, blockerId, '').pk, sk: 'COUNT' },
      UpdateExpression: 'SET entity = :entity ADD blocks :by',
      ...(max === undefined ? {} : { ConditionExpression: 'attribute_not_exists(blocks) OR blocks < :max' }),
      ExpressionAttributeValues: {
        ':entity': ENTITY.blockers,
        ':by': by,
        ...(max === undefined ? {} : { ':max': max }),
      },
    };
  }

  /** The summary no longer names every blocker: the send check reads block items instead. */
  private overflowUpdate(tenantId: string, blockedId: string) {
    return {
      TableName: this.table.tableName,
      Key: keys.blockers(tenantId, blockedId),
      UpdateExpression: 'SET entity = :entity, tenantId = :tenant, userId = :user, overflow = :true',
      ExpressionAttributeValues: {
        ':entity': ENTITY.blockers,
        ':tenant': tenantId,
        ':user': blockedId,
        ':true': true,
      },
    };
  }

  /**
   * ADD / DELETE one blocker in the blocked user's summary set (DynamoDB drops a set that becomes empty);
   * an ADD only while the set names fewer than SUMMARY_MAX (or already this blocker).
   */
  private summaryUpdate(tenantId: string, blockedId: string, op: 'ADD' | 'DELETE', blockerId: string) {
    return {
      TableName: this.table.tableName,
      Key: keys.blockers(tenantId, blockedId),
      UpdateExpression:
        op === 'ADD'
          ? 'SET entity = :entity, tenantId = :tenant, userId = :user ADD blockers :blocker'
          : 'SET entity = :entity, tenantId = :tenant, userId = :user DELETE blockers :blocker',
      ...(op === 'ADD'
        ? {
            ConditionExpression:
              'attribute_not_exists(blockers) OR size(blockers) < :max OR contains(blockers, :blockerId)',
          }
        : {}),
      ExpressionAttributeValues: {
        ':entity': ENTITY.blockers,
        ':tenant': tenantId,
        ':user': blockedId,
        ':blocker': new Set([blockerId]),
        ...(op === 'ADD' ? { ':max': this.summaryMax, ':blockerId': blockerId } : {}),
      },
    };
  }
}
