/**
 * Fan-out: invoked by the table stream for inserts of messages, chat events and chats' creation records
 * only (event-source filter in the route table). Each record's envelope goes to the chat's subscribed
 * sockets with bounded concurrency; a 410 removes that connection. Records of one chat are handled in order, and after a
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
import { chatCreatedEnvelope } from '../../shared/domain/chat-list-feed.ts';
import { chatEventEnvelope, messageCreated } from '../../shared/domain/envelopes.ts';
import type { ChatEventRecord, ChatRecord } from '../../shared/domain/ports.ts';
import { mapLimit } from '../../shared/domain/realtime.ts';
import { chatEventTypes, chatSchema, type Envelope, messageSchema } from '../../shared/domain/schemas.ts';
import { tallyOf } from '../../shared/domain/stats.ts';
import { logger } from '../../shared/runtime/logger.ts';
import { metrics } from '../../shared/runtime/metrics.ts';
import { realtime } from '../../shared/runtime/realtime.ts';
import { stats } from '../../shared/runtime/stats.ts';

export interface Job {
  readonly record: DynamoDBRecord;
  readonly chatId: string;
  readonly envelope: Envelope;
  /** Set for messages: lists move up with message activity. */
  readonly activityAt?: string;
  /** Set for messages: their order within a batch. */
  readonly seq?: number;
  /** Chat list changes also go to the tenant's watchers (watchChats). */
  readonly watch?: { readonly tenantId: string; readonly after: ChatRecord; readonly before?: ChatRecord };
  /** false for chat.created: nobody can be subscribed to a chat that did not exist. */
  readonly toSubscribers?: boolean;
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
        seq: message.seq,
      };
    }
  }
  if (
    item?.entity === ENTITY.chatEvent &&
    chatEventTypes.includes(item.type) &&
    typeof item.chatId === 'string'
  ) {
    const event = item as ChatEventRecord;
    const watch =
      event.type === 'chat.updated' || event.type === 'chat.closed' || event.type === 'chat.assigned'
        ? { tenantId: event.tenantId, after: event.data, ...(event.before ? { before: event.before } : {}) }
        : undefined;
    return { record, chatId: event.chatId, envelope: chatEventEnvelope(event), ...(watch ? { watch } : {}) };
  }
  // A chat's creation record, the entry the tenant's chat change log (GET /v1/chats/changes) holds too.
  if (item?.entity === ENTITY.chatCreated) {
    const parsed = chatSchema.safeParse(item.data);
    if (parsed.success) {
      const chat = parsed.data;
      return {
        record,
        chatId: chat.chatId,
        envelope: chatCreatedEnvelope(chat),
        watch: { tenantId: chat.tenantId, after: chat },
        toSubscribers: false,
      };
    }
  }
  // Close / reopen audit records only move the stats counters (recordStats).
  if (item?.entity === ENTITY.audit) return undefined;
  logger.warn('skipping a record that is not a message, chat event or creation record', {
    eventID: record.eventID,
  });
  return undefined;
};

/**
 * Concurrent sends to one chat reserve their seqs in one order and may commit their messages in another:
 * within a batch, a chat's messages are pushed in seq order (in the slots messages held, so chat events
 * keep their place). A message committed in a later batch than its successor still arrives after it;
 * clients hold a message until the hole below it is filled (docs/protocol.md, "Delivery").
 */
export const inSeqOrder = (jobs: readonly Job[]): Job[] => {
  const messages = jobs.filter((job) => job.seq !== undefined).sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  let next = 0;
  return jobs.map((job) => (job.seq === undefined ? job : (messages[next++] as Job)));
};

const processChat = async (unordered: Job[]): Promise<string[]> => {
  const jobs = inSeqOrder(unordered);
  for (const [index, job] of jobs.entries()) {
    try {
      const outcomes = await Promise.all([
        job.toSubscribers === false ? { delivered: 0, gone: 0 } : realtime.fanout(job.chatId, job.envelope),
        job.watch
          ? realtime.notifyWatchers(job.watch.tenantId, job.envelope, job.watch.after, job.watch.before)
          : { delivered: 0, gone: 0 },
      ]);
      const delivered = outcomes.reduce((sum, o) => sum + o.delivered, 0);
      const gone = outcomes.reduce((sum, o) => sum + o.gone, 0);
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

/**
 * GET /v1/stats counters: one `ADD` per tenant and UTC day for the batch's messages and one per tenant
 * for open-chat changes (creation records, close / reopen audit records). Only records before the first
 * failure count — the stream delivers the rest again. A counter failure is logged, never retried:
 * the stats are approximate, and messages must not be delivered twice for them.
 */
const recordStats = async (records: DynamoDBRecord[], failed: string[]): Promise<void> => {
  const retried = new Set(failed);
  const firstRetried = records.findIndex((record) => retried.has(record.dynamodb?.SequenceNumber ?? ''));
  const items = (firstRetried === -1 ? records : records.slice(0, firstRetried)).flatMap((record) =>
    record.dynamodb?.NewImage ? [unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>)] : [],
  );
  await stats.record(tallyOf(items)).catch((error: unknown) => {
    logger.warn('could not update the stats counters', { error });
  });
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
    await recordStats(event.Records, failed);
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  });
