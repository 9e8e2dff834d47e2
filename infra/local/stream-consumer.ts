/**
 * One consumer of the emulated event-source mapping (./stream-poller.ts): its queue of filtered records,
 * invoked in batches in stream order; partial batch responses and thrown errors retried from the first
 * failed record up to `retryAttempts` times, then handed to `onFailure`; and Lambda's tumbling windows
 * for a consumer with `tumblingWindowSeconds`
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html): a record belongs to the
 * window of the time it was inserted ("Lambda determines tumbling window boundaries based on the time
 * when records were inserted into the stream"; windows start at multiples of their length, as in AWS's
 * example event; here the time the record was read, as DynamoDB Local stamps records to the minute), a
 * batch holds records of one shard and one window, each invocation carries `window`, `state`, `shardId`,
 * `eventSourceARN`, `isFinalInvokeForWindow` and `isWindowTerminatedEarly` and must answer with a `state`
 * (else it failed), and once the window has ended the function is invoked with no records and
 * `isFinalInvokeForWindow: true`, retried until it succeeds while the shard waits, before the state is
 * dropped; a record of another shard closes the window. Not emulated: ending a window early when its
 * state passes 1 MB (`isWindowTerminatedEarly` is always false here). Chosen here where AWS says
 * nothing: a response with batch item failures hands its state on, and the final invocation carries no
 * records (a handler must cope with records in it too).
 */
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { FilterPattern } from '../../shared/config/routes.ts';
import { backoffDelay, noJitter } from '../../shared/domain/backoff.ts';
import { sleep } from '../../shared/domain/long-poll.ts';
import { matchesAnyFilter } from './event-filter.ts';
import type { FaultInjector } from './faults.ts';
import { createLambdaContext } from './lambda-context.ts';

/** What a consumer answers: partial batch failures, and with a tumbling window the window's state. */
export type StreamConsumerResponse = Partial<DynamoDBBatchResponse> & { readonly state?: unknown };

export interface StreamPollerConsumer {
  readonly name: string;
  readonly filters: readonly FilterPattern[];
  readonly batchSize: number;
  readonly retryAttempts: number;
  readonly invoke: (event: DynamoDBStreamEvent, context: Context) => Promise<StreamConsumerResponse | void>;
  /** The Lambda timeout: the context counts down from it and a longer invocation counts as failed. 60 s by default. */
  readonly timeoutMs?: number;
  /** Lambda's tumbling window (`TumblingWindowInSeconds`); absent or 0: none. */
  readonly tumblingWindowSeconds?: number;
}

/** A stream event of a consumer with a tumbling window: the records and the window's fields. */
export interface WindowedStreamEvent extends DynamoDBStreamEvent {
  readonly window: { readonly start: string; readonly end: string };
  readonly state: Record<string, unknown>;
  readonly shardId: string;
  readonly eventSourceARN: string;
  readonly isFinalInvokeForWindow: boolean;
  readonly isWindowTerminatedEarly: boolean;
}

export type StreamFailureHandler = (
  consumer: StreamPollerConsumer,
  records: DynamoDBRecord[],
  error: unknown,
) => void;

/** Where and when (epoch ms) each record entered the stream. Records are shared by every consumer's queue. */
const originOf = new WeakMap<DynamoDBRecord, { readonly shardId: string; readonly insertedAt: number }>();

/** An open tumbling window: its shard, bounds (epoch ms) and the state its last invocation returned. */
interface OpenWindow {
  readonly shardId: string;
  readonly start: number;
  readonly end: number;
  state: Record<string, unknown>;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Notes the shard a record was read from, and when (the window it belongs to). */
export const noteOrigin = (record: DynamoDBRecord, shardId: string, insertedAt: number): void => {
  originOf.set(record, { shardId, insertedAt });
};

export class ConsumerWorker {
  private readonly queue: DynamoDBRecord[] = [];
  private running: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  private stopped = false;
  private attempts = 0;
  private readonly wake = new AbortController();
  /** The tumbling window's length in ms (0: none), the open window and the timer of its end. */
  private readonly windowMs: number;
  private window: OpenWindow | undefined;
  private windowTimer: NodeJS.Timeout | undefined;
  private windowWaiters: Array<() => void> = [];

  constructor(
    readonly consumer: StreamPollerConsumer,
    private readonly onFailure: StreamFailureHandler,
    private readonly retryDelayMs: number,
    private readonly streamArn: string,
    private readonly faults?: FaultInjector,
  ) {
    this.windowMs = Math.max(0, consumer.tumblingWindowSeconds ?? 0) * 1000;
  }

  push(records: readonly DynamoDBRecord[]): void {
    if (this.stopped) return;
    for (const record of records)
      if (matchesAnyFilter(this.consumer.filters, record)) this.queue.push(record);
    this.kick();
  }

  idle(): Promise<void> {
    if (this.running === undefined && (this.queue.length === 0 || this.stopped)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Resolves once no window is open: the last one's final invocation has succeeded. */
  windowsClosed(): Promise<void> {
    if (this.window === undefined || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.windowWaiters.push(resolve));
  }

  /** Stops after the batch in flight (waiting at most `graceMs` for a handler that does not return). */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    clearTimeout(this.windowTimer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
    if (this.window === undefined || this.stopped) {
      const windowWaiters = this.windowWaiters;
      this.windowWaiters = [];
      for (const resolve of windowWaiters) resolve();
    }
  }

  private kick(): void {
    if (this.running !== undefined) return;
    if (this.queue.length === 0 && !this.windowEnded()) {
      // A timer may fire a little before the clock reads the window's end: wait for the rest.
      this.awaitWindowEnd();
      return;
    }
    clearTimeout(this.windowTimer);
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (!this.stopped && this.queue.length > 0) this.kick();
      else {
        this.release();
        this.awaitWindowEnd();
      }
    });
  }

  // ---- tumbling windows ----

  private windowStartOf(record: DynamoDBRecord): number {
    const insertedAt = originOf.get(record)?.insertedAt ?? Date.now();
    return Math.floor(insertedAt / this.windowMs) * this.windowMs;
  }

  /** A record's shard and window, as one comparable key. */
  private windowKeyOf(record: DynamoDBRecord): string {
    return `${originOf.get(record)?.shardId ?? ''}@${this.windowStartOf(record)}`;
  }

  private windowEnded(): boolean {
    return this.window !== undefined && Date.now() >= this.window.end;
  }

  /** The open window ends before the next record: its time is over, or the next record is of another shard or window. */
  private windowCloses(): boolean {
    const window = this.window;
    if (window === undefined) return false;
    const next = this.queue[0];
    if (next === undefined) return Date.now() >= window.end;
    return this.windowKeyOf(next) !== `${window.shardId}@${window.start}`;
  }

  /** With a window open and nothing queued, the final invocation is due at the window's end. */
  private awaitWindowEnd(): void {
    if (this.stopped || this.window === undefined || this.queue.length > 0) return;
    clearTimeout(this.windowTimer);
    this.windowTimer = setTimeout(() => this.kick(), Math.max(0, this.window.end - Date.now()));
    this.windowTimer.unref();
  }

  private eventOf(records: DynamoDBRecord[], final: boolean): DynamoDBStreamEvent {
    // Handlers get their own copy, as each Lambda invocation deserializes its event afresh.
    const Records = structuredClone(records);
    const window = this.window;
    if (window === undefined) return { Records };
    const event: WindowedStreamEvent = {
      Records,
      window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
      state: structuredClone(window.state),
      shardId: window.shardId,
      eventSourceARN: this.streamArn,
      isFinalInvokeForWindow: final,
      isWindowTerminatedEarly: false,
    };
    return event;
  }

  /** The window's final invocation; failed ones are retried (the shard waits) until one succeeds. */
  private async closeWindow(): Promise<void> {
    try {
      const response = await this.invokeOnce([], true);
      if (!isPlainObject(response?.state))
        throw new Error('the final invocation of a window returned no state');
      this.window = undefined;
      this.attempts = 0;
    } catch (error) {
      console.error(`[stream-poller] ${this.consumer.name}: the final invocation of a window failed:`, error);
      this.attempts += 1;
      await sleep(backoffDelay(this.attempts - 1, this.retryDelayMs, 1_000, noJitter), this.wake.signal);
    }
  }

  private async invokeOnce(
    records: DynamoDBRecord[],
    final = false,
  ): Promise<StreamConsumerResponse | undefined> {
    const timeoutMs = this.consumer.timeoutMs ?? 60_000;
    const context = createLambdaContext({ functionName: this.consumer.name, timeoutMs });
    let timer: NodeJS.Timeout | undefined;
    // The plan's time-out: the invocation fails at a random point, its work abandoned mid-batch.
    const plan = this.faults?.plan.stream;
    const timesOut =
      this.faults?.pick(`stream.${this.consumer.name}`, { timeout: plan?.timeout }) === 'timeout';
    const failAfterMs = timesOut
      ? Math.floor((this.faults?.random('stream.timeoutAt') ?? 0) * (plan?.timeoutWithinMs ?? 100))
      : timeoutMs;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`Task timed out after ${timeoutMs / 1000} seconds`)),
        failAfterMs,
      );
    });
    try {
      const event = this.eventOf(records, final);
      const response = await Promise.race([this.consumer.invoke(event, context), timeout]);
      return response ?? undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Index of the first failed record in the batch, or -1 when the batch succeeded. */
  private static firstFailure(
    batch: readonly DynamoDBRecord[],
    response: StreamConsumerResponse | undefined,
  ): number {
    const failures = response?.batchItemFailures ?? [];
    if (failures.length === 0) return -1;
    let first = batch.length;
    for (const failure of failures) {
      const index = batch.findIndex((record) => record.dynamodb?.SequenceNumber === failure.itemIdentifier);
      // An identifier Lambda cannot place (empty, unknown) fails the whole batch.
      if (index === -1) return 0;
      first = Math.min(first, index);
    }
    return first;
  }

  /** The next batch: up to batchSize records, with a tumbling window all of one shard and window. */
  private nextBatch(): DynamoDBRecord[] {
    const batch = this.queue.slice(0, Math.max(1, this.consumer.batchSize));
    const first = batch[0];
    if (this.windowMs === 0 || first === undefined) return batch;
    const key = this.windowKeyOf(first);
    const other = batch.findIndex((record) => this.windowKeyOf(record) !== key);
    if (this.window === undefined) {
      const start = this.windowStartOf(first);
      const shardId = originOf.get(first)?.shardId ?? '';
      this.window = { shardId, start, end: start + this.windowMs, state: {} };
    }
    return other === -1 ? batch : batch.slice(0, other);
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      if (this.windowCloses()) {
        await this.closeWindow();
        continue;
      }
      if (this.queue.length === 0) break;
      const batch = this.nextBatch();
      let failedFrom: number;
      let error: unknown;
      try {
        const response = await this.invokeOnce(batch);
        if (this.window !== undefined) {
          // A windowed invocation must answer with a state; the next one of the window gets it.
          if (!isPlainObject(response?.state)) throw new Error('a windowed invocation returned no state');
          this.window.state = response.state;
        }
        failedFrom = ConsumerWorker.firstFailure(batch, response);
        if (failedFrom !== -1) error = new Error(`batchItemFailures reported from record ${failedFrom}`);
      } catch (thrown) {
        console.error(`[stream-poller] ${this.consumer.name} failed:`, thrown);
        failedFrom = 0;
        error = thrown;
      }
      if (failedFrom === -1) {
        // The plan's redelivery: the same batch again (a stream delivers at least once).
        const redeliver = this.faults?.plan.stream?.redeliver;
        if (this.faults?.pick(`stream.${this.consumer.name}`, { redeliver }) === 'redeliver') continue;
        this.queue.splice(0, batch.length);
        this.attempts = 0;
        continue;
      }
      // Records before the first failure are done; the next attempt starts at the failed record.
      if (failedFrom > 0) {
        this.queue.splice(0, failedFrom);
        this.attempts = 0;
      }
      this.attempts += 1;
      if (this.attempts > this.consumer.retryAttempts) {
        const failed = batch.slice(failedFrom);
        this.queue.splice(0, failed.length);
        this.attempts = 0;
        try {
          this.onFailure(this.consumer, failed, error);
        } catch (callbackError) {
          console.error('[stream-poller] onFailure threw:', callbackError);
        }
        continue;
      }
      await sleep(backoffDelay(this.attempts - 1, this.retryDelayMs, 1_000, noJitter), this.wake.signal);
    }
  }
}
