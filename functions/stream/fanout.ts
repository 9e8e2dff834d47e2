/**
 * Fan-out: invoked by the table stream for message inserts only (event-source filter in the route
 * table). Each record's envelope goes to the chat's subscribed sockets with bounded concurrency; a 410
 * removes that connection. Records of one chat are handled in order, and after a failure the chat's
 * later records are not attempted: all are reported in batchItemFailures so the stream retries from the
 * first failure. Chats are independent and run concurrently.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mapLimit } from '../../shared/domain/realtime.ts';
import { type Message, messageSchema } from '../../shared/domain/schemas.ts';
import { logger, metrics, realtime } from '../../shared/runtime.ts';

interface Job {
  readonly record: DynamoDBRecord;
  readonly message: Message;
}

const parseRecord = (record: DynamoDBRecord): Message | undefined => {
  const image = record.dynamodb?.NewImage;
  const parsed = image
    ? messageSchema.safeParse(unmarshall(image as Record<string, AttributeValue>))
    : undefined;
  if (!parsed?.success) logger.warn('skipping a record that is not a message', { eventID: record.eventID });
  return parsed?.success ? parsed.data : undefined;
};

const processChat = async (jobs: Job[]): Promise<string[]> => {
  for (const [index, { message }] of jobs.entries()) {
    try {
      const { delivered, gone } = await realtime.fanout(message);
      metrics.addMetric('EnvelopesDelivered', 'Count', delivered);
      if (gone > 0) metrics.addMetric('GoneConnections', 'Count', gone);
    } catch (error) {
      logger.error('fan-out failed; the stream will retry', {
        error,
        chatId: message.chatId,
        seq: message.seq,
      });
      return jobs.slice(index).map((job) => job.record.dynamodb?.SequenceNumber ?? '');
    }
    if (index === jobs.length - 1) {
      await realtime.touch(message.chatId, message.createdAt).catch((error: unknown) => {
        logger.warn('could not move the chat up the participants’ lists', { error, chatId: message.chatId });
      });
    }
  }
  return [];
};

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (event) => {
    const byChat = new Map<string, Job[]>();
    for (const record of event.Records) {
      const message = parseRecord(record);
      if (!message) continue;
      const jobs = byChat.get(message.chatId) ?? [];
      jobs.push({ record, message });
      byChat.set(message.chatId, jobs);
    }
    const failed = (await mapLimit([...byChat.values()], 8, processChat)).flat().filter(Boolean);
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  });
