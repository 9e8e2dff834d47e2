/**
 * Fan-out: invoked by the table stream for inserts of messages and chat events only (event-source
 * filter in the route table). Each record's envelope goes to the chat's subscribed sockets with bounded
 * concurrency; a 410 removes that connection. Records of one chat are handled in order, and after a
 * failure the chat's later records are not attempted: all are reported in batchItemFailures so the
 * stream retries from the first failure. Chats are independent and run concurrently.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ENTITY } from '../../shared/config/table.ts';
import { chatEventEnvelope, messageCreated } from '../../shared/domain/envelopes.ts';
import type { ChatEventRecord } from '../../shared/domain/ports.ts';
import { mapLimit } from '../../shared/domain/realtime.ts';
import { chatEventTypes, type Envelope, messageSchema } from '../../shared/domain/schemas.ts';
import { logger, metrics, realtime } from '../../shared/runtime.ts';

interface Job {
  readonly record: DynamoDBRecord;
  readonly chatId: string;
  readonly envelope: Envelope;
  /** Set for messages: lists move up with message activity. */
  readonly activityAt?: string;
}

const jobOf = (record: DynamoDBRecord): Job | undefined => {
  const image = record.dynamodb?.NewImage;
  const item = image ? unmarshall(image as Record<string, AttributeValue>) : undefined;
  if (item?.entity === ENTITY.message) {
    const parsed = messageSchema.safeParse(item);
    if (parsed.success) {
      const message = parsed.data;
      return {
        record,
        chatId: message.chatId,
        envelope: messageCreated(message),
        activityAt: message.createdAt,
      };
    }
  }
  if (
    item?.entity === ENTITY.chatEvent &&
    chatEventTypes.includes(item.type) &&
    typeof item.chatId === 'string'
  ) {
    return { record, chatId: item.chatId, envelope: chatEventEnvelope(item as ChatEventRecord) };
  }
  logger.warn('skipping a record that is neither a message nor a chat event', { eventID: record.eventID });
  return undefined;
};

const processChat = async (jobs: Job[]): Promise<string[]> => {
  for (const [index, job] of jobs.entries()) {
    try {
      const { delivered, gone } = await realtime.fanout(job.chatId, job.envelope);
      metrics.addMetric('EnvelopesDelivered', 'Count', delivered);
      if (gone > 0) metrics.addMetric('GoneConnections', 'Count', gone);
    } catch (error) {
      logger.error('fan-out failed; the stream will retry', {
        error,
        chatId: job.chatId,
        type: job.envelope.type,
      });
      return jobs.slice(index).map((failed) => failed.record.dynamodb?.SequenceNumber ?? '');
    }
  }
  const lastActivity = jobs.findLast((job) => job.activityAt)?.activityAt;
  const chatId = jobs[0]?.chatId;
  if (lastActivity && chatId) {
    await realtime.touch(chatId, lastActivity).catch((error: unknown) => {
      logger.warn('could not move the chat up its lists', { error, chatId });
    });
  }
  return [];
};

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (event) => {
    const byChat = new Map<string, Job[]>();
    for (const record of event.Records) {
      const job = jobOf(record);
      if (!job) continue;
      const jobs = byChat.get(job.chatId) ?? [];
      jobs.push(job);
      byChat.set(job.chatId, jobs);
    }
    const failed = (await mapLimit([...byChat.values()], 8, processChat)).flat().filter(Boolean);
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  });
