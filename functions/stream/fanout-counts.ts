/**
 * What the fan-out counts besides delivering (not a handler: ./fanout.ts's counting): the GET /v1/stats
 * counters — messages per tenant and UTC day, open-chat changes per tenant from creation records and
 * close / reopen audit records — and the `MessagesSent` and `EnvelopesDelivered` metrics (the senders
 * publish none per message).
 *
 * With a tumbling window on the mapping (the route table's `tumblingWindowSeconds`), each invocation adds
 * its messages and deliveries to the window's state and the window's final invocation writes and
 * publishes the sums: one counter write per tenant and day and one EMF line per window and shard,
 * whatever the number of batches. Open-chat changes, rare next to messages, are written by the batch
 * that has them, so the console's open-chat count follows a new, closed or reopened chat within
 * seconds. Without a window, every batch writes and publishes its own.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { recordsBeforeRetry } from '#shared/adapters/dynamo/stream-batch.ts';
import { streamWindowOf, type WindowResponse } from '#shared/adapters/stream-window.ts';
import {
  addTallies,
  messagesStateSchema,
  messagesToState,
  type StatsTally,
  tallyOf,
  tallyOfMessagesState,
} from '#shared/domain/stats.ts';
import { logger } from '#shared/runtime/logger.ts';
import { metrics } from '#shared/runtime/metrics.ts';
import { stats } from '#shared/runtime/stats.ts';
import * as z from '#shared/zod.ts';

export interface Counts {
  readonly tally: StatsTally;
  /** Envelopes posted to sockets. */
  readonly delivered: number;
}

/** A window's state: the messages and deliveries of its invocations so far. */
const windowStateSchema = z.object({
  messages: z._default(messagesStateSchema, {}),
  delivered: z._default(z.number().check(z.int(), z.minimum(0)), 0),
});

/**
 * What the batch's records add to the stats. Only records before the first failure count: the stream
 * delivers the rest again.
 */
export const tallyBatch = (records: readonly DynamoDBRecord[], failed: readonly string[]): StatsTally =>
  tallyOf(
    recordsBeforeRetry(records, failed).flatMap((record) =>
      record.dynamodb?.NewImage
        ? [unmarshall(record.dynamodb.NewImage as Record<string, AttributeValue>)]
        : [],
    ),
  );

/**
 * One `ADD` per tenant and day for messages and one per tenant for open chats, and the two metrics. A
 * counter failure is logged, never retried: the stats are approximate, and messages must not be
 * delivered twice for them (nor a window's final invocation fail, which would hold the shard).
 */
const publish = async ({ tally, delivered }: Counts): Promise<void> => {
  const messages = [...tally.messages.values()].reduce((sum, entry) => sum + entry.count, 0);
  if (messages > 0) metrics.addMetric('MessagesSent', 'Count', messages);
  if (delivered > 0) metrics.addMetric('EnvelopesDelivered', 'Count', delivered);
  await stats.record(tally).catch((error: unknown) => {
    logger.warn('could not update the stats counters', { error });
  });
};

/** Publishes the batch's counts, or adds them to its window's and publishes the window's at its end. */
export const countBatch = async (event: object, batch: Counts): Promise<WindowResponse> => {
  const window = streamWindowOf(event);
  if (!window) {
    await publish(batch);
    return {};
  }
  const parsed = windowStateSchema.safeParse(window.state);
  if (!parsed.success) logger.warn('the fan-out window state is malformed: its counts are dropped');
  const before = parsed.success ? parsed.data : windowStateSchema.parse({});
  // Open-chat changes, rare, are written now; messages and deliveries wait for the window's end.
  const { openChats, messages } = batch.tally;
  await publish({ tally: { openChats, messages: new Map() }, delivered: 0 });
  const sum: Counts = {
    tally: addTallies(tallyOfMessagesState(before.messages), { openChats: new Map(), messages }),
    delivered: before.delivered + batch.delivered,
  };
  if (!window.closes) return { state: { messages: messagesToState(sum.tally), delivered: sum.delivered } };
  await publish(sum);
  return { state: {} };
};
