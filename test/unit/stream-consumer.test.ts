/**
 * The local stream consumer's tumbling windows against a fake clock: the window's final invocation must
 * come even when the timer set for the window's end fires before the wall clock reads it (Node.js times
 * its timers on a cached monotonic clock, `Date.now()` is the wall clock).
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConsumerWorker,
  noteOrigin,
  type StreamPollerConsumer,
  type WindowedStreamEvent,
} from '../../infra/local/stream-consumer.ts';

const WINDOW_START = 1_800_000_000_000;

const recordAt = (pk: string, insertedAt: number): DynamoDBRecord => {
  const record: DynamoDBRecord = {
    eventName: 'INSERT',
    dynamodb: { Keys: { pk: { S: pk } }, SequenceNumber: `${insertedAt}`, StreamViewType: 'NEW_IMAGE' },
  };
  noteOrigin(record, 'shardId-1', insertedAt);
  return record;
};

describe('local stream consumer with a tumbling window', () => {
  const events: WindowedStreamEvent[] = [];
  const consumer: StreamPollerConsumer = {
    name: 'windowed',
    filters: [],
    batchSize: 10,
    retryAttempts: 1,
    tumblingWindowSeconds: 1,
    invoke: async (event) => {
      events.push(event as WindowedStreamEvent);
      return { state: { seen: events.length } };
    },
  };

  beforeEach(() => {
    events.length = 0;
    vi.useFakeTimers({ now: WINDOW_START + 100 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('makes the final invocation at the window end even when the timer fires before the clock reads it', async () => {
    // Prepare: one record in the window [start, start + 1 s), its batch invoked
    const worker = new ConsumerWorker(consumer, () => undefined, 5, 'arn:stream');
    worker.push([recordAt('A#1', Date.now())]);
    await vi.advanceTimersByTimeAsync(0);
    expect(events.map((event) => event.isFinalInvokeForWindow)).toEqual([false]);
    let closed = false;
    void worker.windowsClosed().then(() => (closed = true));
    // The wall clock falls 5 ms behind the timers: the end-of-window timer fires at end − 5 ms.
    vi.setSystemTime(Date.now() - 5);

    // Act
    await vi.advanceTimersByTimeAsync(900);
    const beforeEnd = events.length;
    await vi.advanceTimersByTimeAsync(10);

    // Assess
    expect(beforeEnd).toBe(1);
    expect(events.map((event) => event.isFinalInvokeForWindow)).toEqual([false, true]);
    expect(events[1]?.window.end).toBe(new Date(WINDOW_START + 1000).toISOString());
    expect(closed).toBe(true);
    await worker.stop();
  });
});
