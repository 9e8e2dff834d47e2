/**
 * An emulated Lambda event-source mapping for a DynamoDB stream (on DynamoDB Local): it reads the table's
 * stream shard by shard (following shard lineage), shapes every record exactly like Lambda's
 * DynamoDBStreamEvent record, applies each consumer's event filters, and invokes the consumer with
 * batches in stream order. Partial batch responses (`batchItemFailures`) and thrown errors are retried from
 * the first failed record, up to `retryAttempts` times, then handed to `onFailure` and skipped — the way an
 * event-source mapping with ReportBatchItemFailures and an on-failure destination behaves.
 *
 * A consumer with `tumblingWindowSeconds` gets Lambda's tumbling windows
 * (https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html): a record belongs to the
 * window of the time it was inserted ("Lambda determines tumbling window boundaries based on the time
 * when records were inserted into the stream"; windows start at multiples of their length, as in AWS's
 * example event; here the time the record was read, as DynamoDB Local stamps records to the minute), a batch holds records of one shard and one window, each invocation carries
 * `window`, `state`, `shardId`, `eventSourceARN`, `isFinalInvokeForWindow` and `isWindowTerminatedEarly`
 * and must answer with a `state` (else it failed), and once the window has ended the function is invoked
 * with no records and `isFinalInvokeForWindow: true`, retried until it succeeds while the shard waits,
 * before the state is dropped; a shard that ends closes its window. Not emulated: ending a window early
 * when its state passes 1 MB (`isWindowTerminatedEarly` is always false here).
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type Shard,
  type ShardIteratorType,
  type AttributeValue as StreamAttributeValue,
  type _Record as StreamsRecord,
} from '@aws-sdk/client-dynamodb-streams';
import type {
  Context,
  DynamoDBBatchResponse,
  DynamoDBRecord,
  DynamoDBStreamEvent,
  AttributeValue as LambdaAttributeValue,
} from 'aws-lambda';
import type { FilterPattern } from '../../shared/config/routes.ts';
import { matchesAnyFilter, validateFilterPattern } from './event-filter.ts';
import type { FaultInjector } from './faults.ts';
import { createLambdaContext } from './lambda-context.ts';
import { backoffDelay, noJitter } from '../../shared/domain/backoff.ts';

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

export interface StreamPollerOptions {
  readonly endpoint: string;
  readonly region: string;
  readonly tableName: string;
  readonly consumers: readonly StreamPollerConsumer[];
  /** Pause between polls that returned nothing, while the table is busy (default 25 ms). */
  readonly pollIntervalMs?: number;
  /**
   * Pause between empty polls once nothing has been read or poked for `busyWindowMs` (default: the same
   * as pollIntervalMs). Keeps an idle local cloud cheap; `poke()` after a write brings it back at once.
   */
  readonly idlePollIntervalMs?: number;
  /** How long after the last record read or `poke()` the short interval applies (default 2 s). */
  readonly busyWindowMs?: number;
  /** Called once a batch has failed 1 + retryAttempts times; the records are then skipped. */
  readonly onFailure?: StreamFailureHandler;
  /** First retry delay (doubling, capped at 1 s). */
  readonly retryDelayMs?: number;
  /**
   * DynamoDB Local keeps one database per access key id and region (unless started with -sharedDb), so the
   * table must have been created with these; defaults to `{ accessKeyId: 'local', secretAccessKey: 'local' }`.
   */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** The fault plan's redeliveries and invocation time-outs (infra/local/faults.ts). */
  readonly faults?: FaultInjector;
  /**
   * The least time between the starts of two poll rounds, asked before each round (default: none, the
   * next round starts as soon as one that read records ends). The local cloud asks for a pause while it
   * is overloaded: records then wait a little and come in bigger reads, as they do on AWS while a
   * function is busy with its previous batch, instead of one read per record or two.
   */
  readonly minRoundGapMs?: () => number;
}

export interface StreamPoller {
  readonly streamArn: string;
  stop(): Promise<void>;
  /** Resolves once everything written before the call has been read and every consumer has processed it. */
  idle(): Promise<void>;
  /** `idle()`, then until every consumer's tumbling window has ended with its final invocation. */
  windowsClosed(): Promise<void>;
  /** Something was (probably) written: poll now and keep the short interval for a while. */
  poke(): void;
}

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

const errorName = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string'
    ? error.name
    : '';

// ---- record shape ----------------------------------------------------------------------------------------

/** The SDK's attribute value (binary as bytes) → Lambda's JSON shape (binary as base64). */
export const toLambdaAttributeValue = (value: StreamAttributeValue): LambdaAttributeValue => {
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: [...value.SS] };
  if (value.NS !== undefined) return { NS: [...value.NS] };
  if (value.BS !== undefined) return { BS: value.BS.map((item) => Buffer.from(item).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(toLambdaAttributeValue) };
  if (value.M !== undefined) return { M: toLambdaImage(value.M) };
  // The SDK's union deserializer turns an empty map ({"M":{}}) into {}.
  if (Object.keys(value).length === 0) return { M: {} };
  throw new Error(`unsupported attribute value ${JSON.stringify(value)}`);
};

const toLambdaImage = (image: Record<string, StreamAttributeValue>): Record<string, LambdaAttributeValue> =>
  Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toLambdaAttributeValue(value)]));

/** One stream record as Lambda delivers it to a DynamoDB-stream function. */
export const toLambdaRecord = (record: StreamsRecord, streamArn: string, region: string): DynamoDBRecord => {
  const source = record.dynamodb ?? {};
  const lambdaRecord: DynamoDBRecord = {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ...(source.ApproximateCreationDateTime !== undefined
        ? { ApproximateCreationDateTime: Math.floor(source.ApproximateCreationDateTime.getTime() / 1000) }
        : {}),
      ...(source.Keys !== undefined ? { Keys: toLambdaImage(source.Keys) } : {}),
      ...(source.NewImage !== undefined ? { NewImage: toLambdaImage(source.NewImage) } : {}),
      ...(source.OldImage !== undefined ? { OldImage: toLambdaImage(source.OldImage) } : {}),
      SequenceNumber: source.SequenceNumber,
      SizeBytes: source.SizeBytes,
      StreamViewType: source.StreamViewType,
    },
    eventSourceARN: streamArn,
  };
  if (record.userIdentity !== undefined) {
    // TTL deletions: Lambda passes the identity with lower-camel keys.
    lambdaRecord.userIdentity = {
      type: record.userIdentity.Type,
      principalId: record.userIdentity.PrincipalId,
    };
  }
  return lambdaRecord;
};

// ---- consumers -------------------------------------------------------------------------------------------

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

class ConsumerWorker {
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
    if (this.running !== undefined || (this.queue.length === 0 && !this.windowEnded())) return;
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

// ---- shards ----------------------------------------------------------------------------------------------

interface ShardState {
  readonly id: string;
  readonly parentId: string | undefined;
  iteratorType: ShardIteratorType;
  iterator: string | undefined;
  lastSequenceNumber: string | undefined;
  done: boolean;
}

export const startStreamPoller = async (options: StreamPollerOptions): Promise<StreamPoller> => {
  const pollIntervalMs = options.pollIntervalMs ?? 25;
  const idlePollIntervalMs = options.idlePollIntervalMs ?? pollIntervalMs;
  const busyWindowMs = options.busyWindowMs ?? 2_000;
  let busyUntil = Date.now() + busyWindowMs;
  /** Aborted by poke() to end the current pause early. */
  let pause = new AbortController();
  const poke = (): void => {
    busyUntil = Date.now() + busyWindowMs;
    pause.abort();
  };
  const clientConfig = {
    endpoint: options.endpoint,
    region: options.region,
    credentials: options.credentials ?? LOCAL_CREDENTIALS,
  };
  const dynamo = new DynamoDBClient(clientConfig);
  const streams = new DynamoDBStreamsClient(clientConfig);
  for (const consumer of options.consumers)
    for (const filter of consumer.filters) validateFilterPattern(filter);

  const described = await dynamo.send(new DescribeTableCommand({ TableName: options.tableName }));
  const streamArn = described.Table?.LatestStreamArn;
  if (streamArn === undefined || described.Table?.StreamSpecification?.StreamEnabled === false) {
    dynamo.destroy();
    streams.destroy();
    throw new Error(`table ${options.tableName} has no stream enabled`);
  }

  const onFailure: StreamFailureHandler =
    options.onFailure ??
    ((consumer, records, error) =>
      console.error(
        `[stream-poller] ${consumer.name}: dropping ${records.length} record(s) after retries:`,
        error,
      ));
  const workers = options.consumers.map(
    (consumer) =>
      new ConsumerWorker(consumer, onFailure, options.retryDelayMs ?? 20, streamArn, options.faults),
  );

  const shards = new Map<string, ShardState>();
  const listShards = async (): Promise<Shard[]> => {
    const all: Shard[] = [];
    let exclusiveStartShardId: string | undefined;
    do {
      const page = await streams.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
      );
      all.push(...(page.StreamDescription?.Shards ?? []));
      exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
    } while (exclusiveStartShardId !== undefined);
    return all;
  };

  /** Shards present at start are read from LATEST (closed ones skipped); shards found later from TRIM_HORIZON. */
  const discover = async (initial: boolean): Promise<void> => {
    for (const shard of await listShards()) {
      if (shard.ShardId === undefined || shards.has(shard.ShardId)) continue;
      const closedAtStart = initial && shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      shards.set(shard.ShardId, {
        id: shard.ShardId,
        parentId: shard.ParentShardId,
        iteratorType: initial ? 'LATEST' : 'TRIM_HORIZON',
        iterator: undefined,
        lastSequenceNumber: undefined,
        done: closedAtStart,
      });
    }
  };

  const obtainIterator = async (shard: ShardState): Promise<string | undefined> => {
    const output = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: shard.id,
        ShardIteratorType:
          shard.lastSequenceNumber !== undefined ? 'AFTER_SEQUENCE_NUMBER' : shard.iteratorType,
        ...(shard.lastSequenceNumber !== undefined ? { SequenceNumber: shard.lastSequenceNumber } : {}),
      }),
    );
    return output.ShardIterator;
  };

  // Iterators for the shards that exist now are taken before start resolves, so later writes are seen.
  await discover(true);
  for (const shard of shards.values()) if (!shard.done) shard.iterator = await obtainIterator(shard);

  /** A child shard is read only once its parent (when still known) has been read to its end. */
  const readable = (): ShardState[] =>
    [...shards.values()].filter(
      (shard) => !shard.done && (shard.parentId === undefined || shards.get(shard.parentId)?.done !== false),
    );

  let stopped = false;
  const stopSignal = new AbortController();
  let roundsStarted = 0;
  let roundsCompleted = 0;
  let recordsRead = 0;
  let roundWaiters: Array<{ target: number; resolve: () => void }> = [];
  let lastDiscovery = Date.now();
  let lastErrorLog = 0;

  const readShard = async (shard: ShardState): Promise<number> => {
    shard.iterator ??= await obtainIterator(shard);
    if (shard.iterator === undefined) {
      shard.done = true;
      return 0;
    }
    let output: GetRecordsCommandOutput;
    try {
      output = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }));
    } catch (error) {
      const name = errorName(error);
      if (name === 'ExpiredIteratorException') {
        shard.iterator = undefined;
        return 0;
      }
      if (name === 'TrimmedDataAccessException') {
        shard.iterator = undefined;
        shard.lastSequenceNumber = undefined;
        shard.iteratorType = 'TRIM_HORIZON';
        return 0;
      }
      if (name === 'ResourceNotFoundException') {
        shard.done = true;
        return 0;
      }
      throw error;
    }
    const records = (output.Records ?? []).map((record) => {
      const lambdaRecord = toLambdaRecord(record, streamArn, options.region);
      // DynamoDB Local stamps ApproximateCreationDateTime to the minute; the moment the record was read
      // (within a poll interval of its write) stands in for the time it was inserted.
      originOf.set(lambdaRecord, { shardId: shard.id, insertedAt: Date.now() });
      return lambdaRecord;
    });
    const last = records.at(-1)?.dynamodb?.SequenceNumber;
    if (last !== undefined) shard.lastSequenceNumber = last;
    shard.iterator = output.NextShardIterator;
    if (shard.iterator === undefined || shard.iterator === null) {
      // The shard is closed: its children (if any) appear on the next DescribeStream.
      shard.done = true;
      lastDiscovery = 0;
    }
    if (records.length > 0) for (const worker of workers) worker.push(records);
    recordsRead += records.length;
    return records.length;
  };

  let roundStartedAt = 0;
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const gap = roundStartedAt + (options.minRoundGapMs?.() ?? 0) - Date.now();
      if (gap > 0) await sleep(gap, stopSignal.signal);
      if (stopped) break;
      roundStartedAt = Date.now();
      roundsStarted += 1;
      let read = 0;
      let failed = false;
      try {
        if (Date.now() - lastDiscovery > 1_000) {
          await discover(false);
          lastDiscovery = Date.now();
        }
        for (const shard of readable()) {
          if (stopped) break;
          read += await readShard(shard);
        }
      } catch (error) {
        failed = true;
        if (!stopped && Date.now() - lastErrorLog > 5_000) {
          lastErrorLog = Date.now();
          console.error('[stream-poller] polling failed (retrying):', error);
        }
      }
      roundsCompleted += 1;
      const due = roundWaiters.filter((waiter) => waiter.target <= roundsCompleted);
      roundWaiters = roundWaiters.filter((waiter) => waiter.target > roundsCompleted);
      for (const waiter of due) waiter.resolve();
      if (read > 0) busyUntil = Date.now() + busyWindowMs;
      if (failed) await sleep(500, stopSignal.signal);
      else if (read === 0) {
        // Poked during this round: poll again at once. Otherwise pause until due or poked.
        if (!pause.signal.aborted)
          await sleep(
            Date.now() < busyUntil ? pollIntervalMs : idlePollIntervalMs,
            AbortSignal.any([stopSignal.signal, pause.signal]),
          );
        if (pause.signal.aborted) pause = new AbortController();
      }
    }
  };
  const running = loop();

  /** Resolves after a full poll round that started after this call. */
  const nextFullRound = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    poke();
    const target = roundsStarted + 1;
    return new Promise((resolve) => roundWaiters.push({ target, resolve }));
  };

  const idle = async (): Promise<void> => {
    // Keep going while handlers cause new stream records (e.g. a consumer writing to the table), bounded.
    for (let pass = 0; pass < 100 && !stopped; pass++) {
      const before = recordsRead;
      await nextFullRound();
      await Promise.all(workers.map((worker) => worker.idle()));
      if (recordsRead === before) return;
    }
  };

  return {
    streamArn,
    poke,
    idle,
    windowsClosed: async () => {
      await idle();
      await Promise.all(workers.map((worker) => worker.windowsClosed()));
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      stopSignal.abort();
      await running;
      await Promise.all(workers.map((worker) => worker.stop()));
      for (const waiter of roundWaiters) waiter.resolve();
      roundWaiters = [];
      dynamo.destroy();
      streams.destroy();
    },
  };
};
