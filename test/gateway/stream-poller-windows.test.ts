/**
 * The stream poller's tumbling windows, as Lambda documents them for DynamoDB stream mappings: the state
 * handed from invocation to invocation, a final invocation at each window's end, a response without a
 * state counted as a failure, and a failed final invocation holding the shard until it succeeds.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLocal } from '../../infra/local/dynamo.ts';
import type { StreamPollerConsumer, WindowedStreamEvent } from '../../infra/local/stream-consumer.ts';
import { type StreamPoller, startStreamPoller } from '../../infra/local/stream-poller.ts';
import { until } from '../support/clients.ts';
import { startStreamTable } from '../support/dynamo.ts';

const REGION = 'us-east-1';
const TABLE = 'poller-windows';
const pkOf = (record: DynamoDBRecord): string => record.dynamodb?.Keys?.pk?.S ?? '';

interface Invocation {
  readonly event: WindowedStreamEvent;
  readonly at: number;
  readonly outcome: 'state' | 'no state' | 'threw';
}

describe('stream poller with a tumbling window', () => {
  let dynamo: DynamoLocal;
  let client: DynamoDBClient;
  let poller: StreamPoller;
  const failures: DynamoDBRecord[][] = [];
  const invocations = new Map<string, Invocation[]>();
  const of = (name: string): Invocation[] => invocations.get(name) ?? [];
  const withRecord = (name: string, pk: string): Invocation[] =>
    of(name).filter(({ event }) => event.Records.some((record) => pkOf(record) === pk));
  const finals = (name: string): Invocation[] => of(name).filter(({ event }) => event.isFinalInvokeForWindow);

  /** A consumer that counts its records in the window state, misbehaving where `answer` says. */
  const consumer = (
    name: string,
    prefix: string,
    answer: (event: WindowedStreamEvent, earlier: readonly Invocation[]) => 'state' | 'no state' | 'throw',
  ): StreamPollerConsumer => ({
    name,
    filters: [{ dynamodb: { Keys: { pk: { S: [{ prefix }] } } } }],
    batchSize: 100,
    retryAttempts: 3,
    tumblingWindowSeconds: 1,
    invoke: async (raw: DynamoDBStreamEvent) => {
      const event = raw as WindowedStreamEvent;
      const outcome = answer(event, of(name));
      invocations.set(name, [
        ...of(name),
        { event, at: Date.now(), outcome: outcome === 'throw' ? 'threw' : outcome },
      ]);
      if (outcome === 'throw') throw new Error('the final write failed');
      if (outcome === 'no state') return { batchItemFailures: [] };
      if (event.isFinalInvokeForWindow) return { state: {} };
      const counted = typeof event.state.count === 'number' ? event.state.count : 0;
      return { state: { count: counted + event.Records.length } };
    },
  });

  const put = (pk: string) =>
    client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk }, sk: { S: 'item' } } }));

  beforeAll(async () => {
    ({ dynamo, client } = await startStreamTable(TABLE, REGION));
    poller = await startStreamPoller({
      endpoint: dynamo.endpoint,
      region: REGION,
      tableName: TABLE,
      pollIntervalMs: 10,
      retryDelayMs: 5,
      onFailure: (_, records) => failures.push(records),
      consumers: [
        consumer('count', 'COUNT#', () => 'state'),
        // The first delivery of NOSTATE#1 answers without a state.
        consumer('stateless', 'NOSTATE#', (event, earlier) =>
          event.Records.some((record) => pkOf(record) === 'NOSTATE#1') &&
          !earlier.some(({ event: before }) => before.Records.some((record) => pkOf(record) === 'NOSTATE#1'))
            ? 'no state'
            : 'state',
        ),
        // The first final invocation fails.
        consumer('final', 'FINAL#', (event, earlier) =>
          event.isFinalInvokeForWindow && !earlier.some(({ event: before }) => before.isFinalInvokeForWindow)
            ? 'throw'
            : 'state',
        ),
      ],
    });
  });

  afterAll(async () => {
    await poller?.stop();
    client?.destroy();
    await dynamo?.stop();
  });

  it('hands each invocation of a window the state the previous one returned, and ends the window with a final invocation', async () => {
    // Act
    for (const pk of ['COUNT#1', 'COUNT#2', 'COUNT#3']) await put(pk);
    await until(
      () => finals('count').reduce((sum, { event }) => sum + Number(event.state.count ?? 0), 0) === 3,
      10_000,
    );

    // Assess
    const batches = of('count').filter(({ event }) => !event.isFinalInvokeForWindow);
    expect(batches.flatMap(({ event }) => event.Records.map(pkOf))).toEqual([
      'COUNT#1',
      'COUNT#2',
      'COUNT#3',
    ]);
    for (const { event, at } of of('count')) {
      const [start, end] = [Date.parse(event.window.start), Date.parse(event.window.end)];
      expect(end - start).toBe(1000);
      expect(start % 1000).toBe(0);
      expect(event).toMatchObject({
        shardId: expect.stringMatching(/^shardId-/),
        eventSourceARN: poller.streamArn,
        isWindowTerminatedEarly: false,
      });
      // The final invocation once the window is over, with no records.
      if (event.isFinalInvokeForWindow) {
        expect(event.Records).toEqual([]);
        expect(at).toBeGreaterThanOrEqual(end);
      }
    }
    // The first invocation of each window starts from an empty state.
    const windows = new Set(of('count').map(({ event }) => event.window.start));
    for (const start of windows) {
      const first = of('count').find(({ event }) => event.window.start === start);
      expect(first?.event.state).toEqual({});
    }
    expect(finals('count')).toHaveLength(windows.size);
  });

  it('counts an answer without a state as a failed invocation and delivers the batch again', async () => {
    // Act
    await put('NOSTATE#1');
    await until(() => finals('stateless').some(({ event }) => event.state.count === 1), 10_000);

    // Assess
    expect(withRecord('stateless', 'NOSTATE#1').map(({ outcome }) => outcome)).toEqual(['no state', 'state']);
    expect(failures).toEqual([]);
  });

  it('retries a failed final invocation until it succeeds, before any record of a later window', async () => {
    // Prepare: one record, then another once the first one's window has ended
    await put('FINAL#1');
    await until(() => withRecord('final', 'FINAL#1').length > 0, 10_000);
    const firstEnd = Date.parse(withRecord('final', 'FINAL#1')[0]?.event.window.end ?? '');
    await until(() => Date.now() >= firstEnd);

    // Act
    await put('FINAL#2');
    await until(
      () =>
        finals('final').some(
          ({ outcome, event }) =>
            outcome === 'state' && event.window.end !== new Date(firstEnd).toISOString(),
        ),
      10_000,
    );

    // Assess: the first window's final failed once, succeeded with the same state, and only then came FINAL#2
    const sequence = of('final').map(({ event, outcome }) =>
      event.isFinalInvokeForWindow
        ? `final ${event.window.end === new Date(firstEnd).toISOString() ? 1 : 2} ${outcome} ${String(event.state.count)}`
        : event.Records.map(pkOf).join(','),
    );
    expect(sequence).toEqual(['FINAL#1', 'final 1 threw 1', 'final 1 state 1', 'FINAL#2', 'final 2 state 1']);
  });
});
