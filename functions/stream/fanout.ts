/**
 * Fan-out: invoked by the table stream for inserts of messages, chat events and chats' creation records
 * and for messages' reaction records (event-source filter in the route table). Each record's envelope goes to the chat's subscribed
 * sockets with bounded concurrency; a 410 removes that connection. Records of one chat are handled in order, and after a
 * failure the chat's later records are not attempted: all are reported in batchItemFailures so the
 * stream retries from the first failure. Chats are independent and run concurrently.
 *
 * A message above a small, recent hole (a lower seq stored after it) has the hole's messages read from
 * the table and pushed first (./fanout-holes.ts).
 *
 * A batch's work grows with records × subscribers (100 messages to a 500-socket room: 50,000 posts), so
 * records are started only during the first half of the invocation's time: the others are reported in
 * batchItemFailures like failed ones and come back in the next batch, instead of the invocation timing
 * out and the whole batch being pushed again (docs/operations.md, "Fan-out at scale").
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import middy from '@middy/core';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ENTITY } from '#shared/config/table.ts';
import { chatCreatedEnvelope } from '#shared/domain/chat-list-feed.ts';
import { chatEventEnvelope, messageCreated } from '#shared/domain/envelopes.ts';
import type { ChatEventRecord } from '#shared/domain/ports.ts';
import { reactionEnvelope, reactionRecordOf } from '#shared/domain/reactions.ts';
import { sleep } from '#shared/domain/long-poll.ts';
import { mapLimit } from '#shared/domain/realtime.ts';
import {
  chatEventTypes,
  type ChatRecord,
  chatSchema,
  type Envelope,
  type Message,
  messageSchema,
} from '#shared/domain/schemas.ts';
import type { WindowResponse } from '#shared/adapters/stream-window.ts';
import { logger } from '#shared/runtime/logger.ts';
import { metrics } from '#shared/runtime/metrics.ts';
import { realtime } from '#shared/runtime/realtime.ts';
import { messageStore } from '#shared/runtime/stores.ts';
import { countBatch, tallyBatch } from './fanout-counts.ts';
import { holePause, PushedSeqs, unstored } from './fanout-holes.ts';

export interface Job {
  readonly record: DynamoDBRecord;
  readonly chatId: string;
  readonly envelope: Envelope;
  /** Set for messages: lists move up with message activity. */
  readonly activityAt?: string;
  /** Set for messages: their order within a batch. */
  readonly seq?: number;
  /** Set for messages: the chat's membersVersion when the seq was reserved (delivery-scope.ts). */
  readonly membersVersion?: number;
  /** Chat list changes also go to the tenant's watchers (watchChats). */
  readonly watch?: { readonly tenantId: string; readonly after: ChatRecord; readonly before?: ChatRecord };
  /** false for chat.created: nobody can be subscribed to a chat that did not exist. */
  readonly toSubscribers?: boolean;
  /** A message sent over a socket: that socket had it in its ack and is not pushed it again. */
  readonly except?: string;
  /** A message that mentions users: they get `mention` envelopes on all their sockets. */
  readonly mentions?: Message;
  /** A change that removed participants: they get its envelope on all their sockets (not subscribers now). */
  readonly removed?: { readonly tenantId: string; readonly userIds: readonly string[] };
  /** A message read to fill a hole below the batch's messages, pushed ahead of its record (./fanout-holes.ts). */
  readonly ahead?: boolean;
  /** A chat's creation record: its messages start at seq 1 (./fanout-holes.ts). */
  readonly opens?: boolean;
}

/** A stored message item's job (the item as the stream's new image carries it, or as read). */
const messageJobOf = (item: Record<string, unknown>, record: DynamoDBRecord): Job | undefined => {
  const parsed = messageSchema.safeParse(item);
  if (!parsed.success) return undefined;
  const message = parsed.data;
  return {
    record,
    chatId: message.chatId,
    envelope: messageCreated(message),
    activityAt: message.createdAt,
    seq: message.seq,
    ...(typeof item.membersVersion === 'number' ? { membersVersion: item.membersVersion } : {}),
    ...(message.mentions?.length ? { mentions: message } : {}),
    ...(typeof item.viaConnectionId === 'string' ? { except: item.viaConnectionId } : {}),
  };
};

const jobOf = (record: DynamoDBRecord): Job | undefined => {
  const image = record.dynamodb?.NewImage;
  const item = image ? unmarshall(image as Record<string, AttributeValue>) : undefined;
  if (item?.entity === ENTITY.message) {
    const job = messageJobOf(item, record);
    if (job) return job;
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
    const removed =
      event.type === 'chat.updated' && event.removed?.length
        ? { tenantId: event.tenantId, userIds: event.removed }
        : undefined;
    return {
      record,
      chatId: event.chatId,
      envelope: chatEventEnvelope(event),
      ...(watch ? { watch } : {}),
      ...(removed ? { removed } : {}),
    };
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
        opens: true,
      };
    }
  }
  // A message's reactions record, inserted or changed: its last change goes to every subscriber.
  // (A write that changed no reaction — emoji nobody uses dropped from the set — keeps the version.)
  const oldVersion = record.dynamodb?.OldImage?.version?.N;
  if (item?.entity === ENTITY.reactions && oldVersion !== undefined && oldVersion === String(item.version)) {
    return undefined;
  }
  if (item?.entity === ENTITY.reactions && typeof item.chatId === 'string') {
    const reactions = reactionRecordOf(item);
    const envelope = reactionEnvelope(reactions);
    const via = reactions.last?.viaConnectionId;
    if (envelope)
      return { record, chatId: envelope.chatId ?? item.chatId, envelope, ...(via ? { except: via } : {}) };
  }
  // Close / reopen audit records only move the stats counters (./fanout-counts.ts).
  if (item?.entity === ENTITY.audit) return undefined;
  logger.warn('skipping a record that is not a message, chat event or creation record', {
    eventID: record.eventID,
  });
  return undefined;
};

/**
 * Concurrent sends to one chat reserve their seqs in one order and may commit their messages in another:
 * within a batch, a chat's messages are pushed in seq order. A message stored after a higher one moves
 * up to just before it, and nothing moves later: whatever followed a message in the stream (its edit,
 * deletion, reactions) still follows it. A message committed in a later batch than its successor still
 * arrives after it; clients hold a message until the hole below it is filled (docs/protocol.md, "Delivery").
 */
export const inSeqOrder = (jobs: readonly Job[]): Job[] => {
  const ordered: Job[] = [];
  for (const job of jobs) {
    const seq = job.seq;
    const higher =
      seq === undefined ? -1 : ordered.findIndex((placed) => placed.seq !== undefined && placed.seq > seq);
    if (higher === -1) ordered.push(job);
    else ordered.splice(higher, 0, job);
  }
  return ordered;
};

/** What this container pushed per chat (./fanout-holes.ts). */
const pushedSeqs = new PushedSeqs();

/**
 * The stored items of a hole, its seqs not stored yet read again after the pauses of holePause until
 * none is missing. `waited` is the time the chat's holes of this batch have waited so far. A read that
 * fails ends it: the records push what it did not find.
 */
const readHole = async (
  chatId: string,
  from: number,
  to: number,
  waited: { ms: number },
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  const stored = new Set<number>();
  let missing = [from, to] as const;
  for (let reads = 1; ; reads++) {
    const before = stored.size;
    try {
      for (const item of await messageStore.storedItems(chatId, missing[0], missing[1])) {
        // A range read again can hold seqs found before (stored between two missing ones).
        if (typeof item.seq !== 'number' || stored.has(item.seq)) continue;
        stored.add(item.seq);
        items.push(item);
      }
    } catch (error) {
      logger.warn('could not read a hole below a message; its record pushes it', { error, chatId });
      break;
    }
    const left = unstored(missing[0], missing[1], stored);
    if (!left) break;
    missing = left;
    const pause = holePause(reads, stored.size > before, waited.ms);
    if (pause === undefined) break;
    await sleep(pause);
    waited.ms += pause;
  }
  return items;
};

/** A chat's jobs of one batch with the messages of the small, recent holes below them read and put first. */
const withHoles = async (chatId: string, jobs: Job[]): Promise<Job[]> => {
  const found: Job[] = [];
  const waited = { ms: 0 };
  for (const [from, to] of pushedSeqs.holes(chatId, jobs)) {
    for (const item of await readHole(chatId, from, to, waited)) {
      const job = messageJobOf(item, { eventName: 'INSERT' });
      if (job) found.push({ ...job, ahead: true });
    }
  }
  return found.length === 0 ? jobs : inSeqOrder([...jobs, ...found]);
};

/**
 * Whether the invocation may start another record: during the first half of the time it had left when it
 * began (the second half is the margin for the records in flight), and always when none has started yet,
 * so every invocation makes progress.
 */
export const startBudget = (remainingMs: number, clock: () => number = Date.now): (() => boolean) => {
  const until = clock() + remainingMs / 2;
  let started = 0;
  return () => {
    if (started > 0 && clock() >= until) return false;
    started++;
    return true;
  };
};

/** The outcome of a push to nobody (a record without subscribers or without watchers). */
const NOBODY = { delivered: 0, gone: 0, goneIds: [] } as const;

/**
 * A chat's records of one batch, in order. Its subscriptions are read once, when the first record needs
 * them: every record of the batch was stored before the batch was read, so a subscription stored before
 * any of them is in that read (and one stored later is caught up by its subscriber, docs/protocol.md).
 * Each record goes to those still entitled to it (a message's membersVersion spares the participants
 * read, shared/domain/delivery-scope.ts). A connection answered 410 is removed, and left out of the
 * chat's later records.
 * A record is started only if `mayStart()` says so: otherwise it and the chat's later records are returned
 * for the stream to deliver again, as after a failure.
 */
const processChat = async (
  unordered: Job[],
  mayStart: () => boolean,
  counts: { delivered: number },
): Promise<string[]> => {
  const chatId = unordered[0]?.chatId;
  const jobs = chatId === undefined ? [] : await withHoles(chatId, inSeqOrder(unordered));
  const audience = chatId === undefined ? undefined : realtime.audience(chatId);
  let done = 0;
  let unfinished: Job[] = [];
  for (const [index, job] of jobs.entries()) {
    if (!mayStart()) {
      unfinished = jobs.slice(index);
      logger.info('out of time for this batch; the stream delivers the rest again', {
        chatId,
        deferred: unfinished.length,
      });
      metrics.addMetric('DeferredRecords', 'Count', unfinished.length);
      break;
    }
    // Pushed ahead of its record, to fill a hole: not again.
    if (job.seq !== undefined && !job.ahead && pushedSeqs.takeAhead(job.chatId, job.seq)) {
      done = index + 1;
      continue;
    }
    try {
      // Its subscribers are only those still entitled to it: the participants a change removed are told
      // on their own sockets.
      const targets =
        job.toSubscribers === false || !audience
          ? undefined
          : await audience.connectionIds(job.membersVersion);
      const [toChat, toWatchers, toMentioned, toRemoved] = await Promise.all([
        targets ? realtime.fanout(job.chatId, job.envelope, targets, job.except) : NOBODY,
        job.watch
          ? realtime.notifyWatchers(job.watch.tenantId, job.envelope, job.watch.after, job.watch.before)
          : NOBODY,
        job.mentions ? realtime.notifyMentions(job.mentions) : NOBODY,
        job.removed
          ? realtime.notifyRemoved(job.removed.tenantId, job.removed.userIds, job.envelope, targets)
          : NOBODY,
      ]);
      audience?.drop(toChat.goneIds);
      const delivered = toChat.delivered + toWatchers.delivered + toMentioned.delivered + toRemoved.delivered;
      const gone = toChat.gone + toWatchers.gone + toMentioned.gone + toRemoved.gone;
      counts.delivered += delivered;
      if (gone > 0) metrics.addMetric('GoneConnections', 'Count', gone);
      done = index + 1;
      if (job.seq !== undefined) pushedSeqs.pushed(job.chatId, job.seq, job.ahead);
      else if (job.opens) pushedSeqs.opened(job.chatId);
    } catch (error) {
      if (job.ahead) {
        // Its own record pushes it when it comes.
        logger.warn('could not push a message ahead of its record', { error, chatId, seq: job.seq });
        continue;
      }
      logger.error('fan-out failed; the stream will retry', {
        error,
        chatId: job.chatId,
        type: job.envelope.type,
      });
      unfinished = jobs.slice(index);
      break;
    }
  }
  const lastActivity = jobs.slice(0, done).findLast((job) => job.activityAt)?.activityAt;
  if (lastActivity && chatId) {
    await realtime.touch(chatId, lastActivity).catch((error: unknown) => {
      logger.warn('could not move the chat up its lists', { error, chatId });
    });
  }
  return unfinished.map((job) => job.record.dynamodb?.SequenceNumber ?? '');
};

export const handler = middy<DynamoDBStreamEvent, DynamoDBBatchResponse & WindowResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context: Context) => {
    const mayStart = startBudget(context.getRemainingTimeInMillis());
    const byChat = new Map<string, Job[]>();
    for (const record of event.Records) {
      const job = jobOf(record);
      if (!job) continue;
      const jobs = byChat.get(job.chatId) ?? [];
      jobs.push(job);
      byChat.set(job.chatId, jobs);
    }
    const counts = { delivered: 0 };
    const failed = (await mapLimit([...byChat.values()], 8, (jobs) => processChat(jobs, mayStart, counts)))
      .flat()
      .filter(Boolean);
    const window = await countBatch(event, {
      tally: tallyBatch(event.Records, failed),
      delivered: counts.delivered,
    });
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })), ...window };
  });
