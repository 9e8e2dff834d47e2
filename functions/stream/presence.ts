/**
 * Presence: invoked by the table stream for writes of presence items (filtered in the route table).
 * A user's first socket opening or last one closing stores a transition with the count ($connect,
 * $disconnect and the 410 path only write); this pushes it as `presence` to the subscribers of the
 * user's recent chats. A failed user is retried by the stream; the envelope's id lets clients drop
 * a repeat.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { presenceChanges } from '../../shared/adapters/dynamo/presence-stream.ts';
import { mapLimit } from '../../shared/domain/realtime.ts';
import { logger } from '../../shared/runtime/logger.ts';
import { realtime } from '../../shared/runtime/realtime.ts';

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const failures = await mapLimit(presenceChanges(event.Records), 8, async (change) => {
      try {
        await realtime.announcePresence(change.tenantId, change.transition);
        return undefined;
      } catch (error) {
        logger.error('could not announce a presence change', { error, userId: change.transition.userId });
        return change.record.dynamodb?.SequenceNumber;
      }
    });
    return { batchItemFailures: failures.flatMap((id) => (id ? [{ itemIdentifier: id }] : [])) };
  });
