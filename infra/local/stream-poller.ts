/**
 * An emulated Lambda event-source mapping for a DynamoDB stream (on DynamoDB Local): it reads the table's
 * stream shard by shard (following shard lineage), shapes every record exactly like Lambda's
 * DynamoDBStreamEvent record (./stream-records.ts), applies each consumer's event filters, and invokes the
 * consumer with batches in stream order (./stream-consumer.ts). Partial batch responses
 * (`batchItemFailures`) and thrown errors are retried from the first failed record, up to `retryAttempts`
 * times, then handed to `onFailure` and skipped — the way an event-source mapping with
 * ReportBatchItemFailures and an on-failure destination behaves — and a consumer with
 * `tumblingWindowSeconds` gets Lambda's tumbling windows.
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
} from '@aws-sdk/client-dynamodb-streams';
import { validateFilterPattern } from './event-filter.ts';
import type { FaultInjector } from './faults.ts';
import { sleep } from '../../shared/domain/long-poll.ts';
import {
  ConsumerWorker,
  noteOrigin,
  type StreamFailureHandler,
  type StreamPollerConsumer,
} from './stream-consumer.ts';
import { toLambdaRecord } from './stream-records.ts';

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

const errorName = (error: unknown): string =>
  typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string'
    ? error.name
    : '';

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
      noteOrigin(lambdaRecord, shard.id, Date.now());
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
      // The pause minRoundGapMs asks for, asked again on each poke: one no longer asked for ends at once.
      for (;;) {
        const gap = roundStartedAt + (options.minRoundGapMs?.() ?? 0) - Date.now();
        if (gap <= 0 || stopped) break;
        if (pause.signal.aborted) pause = new AbortController();
        await sleep(gap, AbortSignal.any([stopSignal.signal, pause.signal]));
      }
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
