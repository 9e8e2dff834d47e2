/**
 * An emulated Lambda event-source mapping for a DynamoDB stream (on DynamoDB Local): it reads the table's
 * stream shard by shard (following shard lineage), shapes every record exactly like Lambda's
 * DynamoDBStreamEvent record, applies each consumer's event filters, and invokes the consumer with
 * batches in stream order. Partial batch responses (`batchItemFailures`) and thrown errors are retried from
 * the first failed record, up to `retryAttempts` times, then handed to `onFailure` and skipped — the way an
 * event-source mapping with ReportBatchItemFailures and an on-failure destination behaves.
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

export interface StreamPollerConsumer {
  readonly name: string;
  readonly filters: readonly FilterPattern[];
  readonly batchSize: number;
  readonly retryAttempts: number;
  readonly invoke: (event: DynamoDBStreamEvent, context: Context) => Promise<DynamoDBBatchResponse | void>;
  /** The Lambda timeout: the context counts down from it and a longer invocation counts as failed. 60 s by default. */
  readonly timeoutMs?: number;
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

class ConsumerWorker {
  private readonly queue: DynamoDBRecord[] = [];
  private running: Promise<void> | undefined;
  private waiters: Array<() => void> = [];
  private stopped = false;
  private attempts = 0;
  private readonly wake = new AbortController();

  constructor(
    readonly consumer: StreamPollerConsumer,
    private readonly onFailure: StreamFailureHandler,
    private readonly retryDelayMs: number,
    private readonly faults?: FaultInjector,
  ) {}

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

  /** Stops after the batch in flight (waiting at most `graceMs` for a handler that does not return). */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    this.wake.abort();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    this.release();
  }

  private release(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  private kick(): void {
    if (this.running !== undefined || this.queue.length === 0) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (!this.stopped && this.queue.length > 0) this.kick();
      else this.release();
    });
  }

  private async invokeOnce(records: DynamoDBRecord[]): Promise<DynamoDBBatchResponse | undefined> {
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
      // Handlers get their own copy, as each Lambda invocation deserializes its event afresh.
      const event: DynamoDBStreamEvent = { Records: structuredClone(records) };
      const response = await Promise.race([this.consumer.invoke(event, context), timeout]);
      return response ?? undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Index of the first failed record in the batch, or -1 when the batch succeeded. */
  private static firstFailure(
    batch: readonly DynamoDBRecord[],
    response: DynamoDBBatchResponse | undefined,
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

  private async drain(): Promise<void> {
    while (!this.stopped && this.queue.length > 0) {
      const batch = this.queue.slice(0, Math.max(1, this.consumer.batchSize));
      let failedFrom: number;
      let error: unknown;
      try {
        failedFrom = ConsumerWorker.firstFailure(batch, await this.invokeOnce(batch));
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
    (consumer) => new ConsumerWorker(consumer, onFailure, options.retryDelayMs ?? 20, options.faults),
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
    const records = (output.Records ?? []).map((record) => toLambdaRecord(record, streamArn, options.region));
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

  return {
    streamArn,
    poke,
    idle: async () => {
      // Keep going while handlers cause new stream records (e.g. a consumer writing to the table), bounded.
      for (let pass = 0; pass < 100 && !stopped; pass++) {
        const before = recordsRead;
        await nextFullRound();
        await Promise.all(workers.map((worker) => worker.idle()));
        if (recordsRead === before) return;
      }
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
