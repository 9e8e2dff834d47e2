/**
 * Sends `connection.ready` to each new socket. API Gateway cannot post to a connection while its
 * $connect is running, so the connection item's stream INSERT triggers this instead (filtered in the
 * route table); it arrives a few milliseconds after the socket opens. A 410 here may mean "not open
 * yet", so it is retried and never removes the connection (RealtimeService.greet).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import * as z from '../../shared/zod.ts';
import { mapLimit } from '../../shared/domain/realtime.ts';
import { roleSchema, tenantIdSchema, userIdSchema } from '../../shared/domain/schemas.ts';
import { logger } from '../../shared/runtime/logger.ts';
import { realtime } from '../../shared/runtime/realtime.ts';

const connectionImage = z.object({
  connectionId: z.string(),
  tenantId: tenantIdSchema,
  userId: userIdSchema,
  role: roleSchema,
  connectedAt: z.iso.datetime(),
});

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    const failures = await mapLimit(event.Records, 16, async (record) => {
      const image = record.dynamodb?.NewImage;
      const parsed = image
        ? connectionImage.safeParse(unmarshall(image as Record<string, AttributeValue>))
        : undefined;
      if (!parsed?.success) return undefined;
      const { connectionId, tenantId, userId, role, connectedAt } = parsed.data;
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
    });
    return {
      batchItemFailures: failures.flatMap((id) => (id ? [{ itemIdentifier: id }] : [])),
    };
  });
