/**
 * Sockets' lifecycle, from the table stream (filtered in the route table to connection inserts and
 * presence-item writes): one consumer for both, so the stream has two readers (this and the fan-out),
 * the most AWS advises per shard ("No more than two processes at most should be reading from the same
 * streams shard at the same time", DynamoDB developer guide, "Change data capture for DynamoDB Streams").
 *
 * - A new connection item: `connection.ready` to that socket. API Gateway cannot post to a connection
 *   while its $connect is running, so the item's INSERT triggers it a few milliseconds after the socket
 *   opens. A 410 here may mean "not open yet": it is retried and never removes the connection
 *   (RealtimeService.greet).
 * - A presence item written by a user's first socket opening or last one closing ($connect, $disconnect
 *   and the 410 path only write): the transition goes as `presence` to the subscribers of the user's
 *   recent chats. A write that only moves the count announces nothing, and neither does a user's going
 *   offline once they are online again (shared/domain/presence-current.ts).
 *
 * - Connection items inserted and removed (by $disconnect, the 410 path or their TTL): the live-connection
 *   counters of GET /v1/stats, one `ADD` per tenant and role per batch — not one per $connect and
 *   $disconnect, which a reconnect storm would pay twice per socket.
 *
 * A failed record is retried by the stream; envelope ids let clients drop a repeat. Only records
 * before the first failure are counted (the stream delivers the rest again); a counter that cannot be
 * written is logged, never retried: the stats are approximate, and a greeting must not go twice for them.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { presenceChanges } from '#shared/adapters/dynamo/presence-stream.ts';
import { recordsBeforeRetry } from '#shared/adapters/dynamo/stream-batch.ts';
import { ENTITY } from '#shared/config/table.ts';
import * as z from '#shared/zod.ts';
import { withoutSuperseded } from '#shared/domain/presence-current.ts';
import type { PresenceReads } from '#shared/domain/presence-reads.ts';
import { mapLimit } from '#shared/domain/realtime.ts';
import { roleSchema, tenantIdSchema, userIdSchema } from '#shared/domain/schemas.ts';
import { connectionTallyOf } from '#shared/domain/stats.ts';
import { logger } from '#shared/runtime/logger.ts';
import { realtime } from '#shared/runtime/realtime.ts';
import { stats } from '#shared/runtime/stats.ts';
import { presenceStore } from '#shared/runtime/stores.ts';

const connectionImage = z.object({
  connectionId: z.string(),
  tenantId: tenantIdSchema,
  userId: userIdSchema,
  role: roleSchema,
  connectedAt: z.iso.datetime(),
});

/** The new connections of a batch (connection items inserted). */
const newConnections = (records: readonly DynamoDBRecord[]) =>
  records.flatMap((record) => {
    const image = record.dynamodb?.NewImage;
    if (record.eventName !== 'INSERT' || !image) return [];
    const item = unmarshall(image as Record<string, AttributeValue>);
    if (item.entity !== ENTITY.connection) return [];
    const parsed = connectionImage.safeParse(item);
    return parsed.success ? [{ record, connection: parsed.data }] : [];
  });

/** Connections opened (+1) and gone (-1) among `records`, per tenant and role. */
const connectionChanges = (records: readonly DynamoDBRecord[]) =>
  records.flatMap((record) => {
    const inserted = record.eventName === 'INSERT';
    const image = inserted ? record.dynamodb?.NewImage : record.dynamodb?.OldImage;
    if ((!inserted && record.eventName !== 'REMOVE') || !image) return [];
    const item = unmarshall(image as Record<string, AttributeValue>);
    if (item.entity !== ENTITY.connection) return [];
    const parsed = connectionImage.safeParse(item);
    if (!parsed.success) return [];
    const { tenantId, role } = parsed.data;
    return [{ tenantId, role, delta: inserted ? (1 as const) : (-1 as const) }];
  });

/** The live-connection counters, from the records before the first one the stream delivers again. */
const countConnections = async (records: DynamoDBRecord[], failed: readonly string[]): Promise<void> => {
  const counted = connectionChanges(recordsBeforeRetry(records, failed));
  await stats.recordConnections(connectionTallyOf(counted)).catch((error: unknown) => {
    logger.warn('could not update the connection counters', { error });
  });
};

const greet = async ({ record, connection }: ReturnType<typeof newConnections>[number]) => {
  const { connectionId, tenantId, userId, role, connectedAt } = connection;
  try {
    await realtime.greet(connectionId, {
      type: 'connection.ready',
      id: `${connectionId}:ready`,
      tenantId,
      at: connectedAt,
      data: { connectionId, userId, role },
    });
    return undefined;
  } catch (error) {
    logger.error('could not send connection.ready', { error, connectionId });
    return record.dynamodb?.SequenceNumber;
  }
};

const announce = async (change: ReturnType<typeof presenceChanges>[number], reads: PresenceReads) => {
  try {
    await realtime.announcePresence(change.tenantId, change.transition, reads);
    return undefined;
  } catch (error) {
    logger.error('could not announce a presence change', { error, userId: change.transition.userId });
    return change.record.dynamodb?.SequenceNumber;
  }
};

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    // The batch's announcements read each chat's subscribers and each tenant's watchers once.
    const reads = realtime.presenceReads();
    const changes = presenceChanges(event.Records);
    const [greeted, announced] = await Promise.all([
      mapLimit(newConnections(event.Records), 16, greet),
      withoutSuperseded(changes, presenceStore)
        .catch((error: unknown) => {
          logger.warn('could not read the users’ presence: announcing every change', { error });
          return changes;
        })
        .then((current) => mapLimit(current, 8, (change) => announce(change, reads))),
    ]);
    const failed = [...greeted, ...announced].flatMap((id) => (id ? [id] : []));
    await countConnections(event.Records, failed);
    return { batchItemFailures: failed.map((id) => ({ itemIdentifier: id })) };
  });
