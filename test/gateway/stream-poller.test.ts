import {
  BatchWriteItemCommand,
  DeleteItemCommand,
  type DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLocal } from '../../infra/local/dynamo.ts';
import type { StreamPollerConsumer } from '../../infra/local/stream-consumer.ts';
import { type StreamPoller, startStreamPoller } from '../../infra/local/stream-poller.ts';
import { startStreamTable } from '../support/dynamo.ts';

const REGION = 'us-east-1';
const TABLE = 'poller-test';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const pkOf = (record: DynamoDBRecord): string => record.dynamodb?.Keys?.pk?.S ?? '';

interface Failure {
  consumer: string;
  records: DynamoDBRecord[];
  error: unknown;
}

describe('stream poller (Lambda event-source mapping on a DynamoDB Local stream)', () => {
  let dynamo: DynamoLocal;
  let client: DynamoDBClient;
  let poller: StreamPoller;
  const batches = new Map<string, DynamoDBRecord[][]>();
  const failures: Failure[] = [];
  const attemptsByPk = new Map<string, number>();
  let slowFinished = false;

  const batchesOf = (name: string): DynamoDBRecord[][] => batches.get(name) ?? [];
  const recordsOf = (name: string, prefix: string): DynamoDBRecord[] =>
    batchesOf(name)
      .flat()
      .filter((record) => pkOf(record).startsWith(prefix));
  const consumer = (
    name: string,
    settings: Omit<StreamPollerConsumer, 'name' | 'invoke'>,
    behaviour: (records: DynamoDBRecord[]) => Promise<DynamoDBBatchResponse | undefined> = async () =>
      undefined,
  ): StreamPollerConsumer => ({
    name,
    ...settings,
    invoke: async (event: DynamoDBStreamEvent) => {
      batches.set(name, [...batchesOf(name), event.Records]);
      for (const record of event.Records)
        attemptsByPk.set(`${name}:${pkOf(record)}`, (attemptsByPk.get(`${name}:${pkOf(record)}`) ?? 0) + 1);
      return behaviour(event.Records);
    },
  });
  const put = (
    pk: string,
    attributes: Record<string, { S: string } | { N: string } | { B: Uint8Array }> = {},
  ) =>
    client.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk }, sk: { S: 'item' }, ...attributes } }),
    );

  beforeAll(async () => {
    ({ dynamo, client } = await startStreamTable(TABLE, REGION));
    // Written before the poller starts: a LATEST iterator must never deliver it.
    await put('BEFORE#1', { entity: { S: 'message' } });

    poller = await startStreamPoller({
      endpoint: dynamo.endpoint,
      region: REGION,
      tableName: TABLE,
      pollIntervalMs: 10,
      retryDelayMs: 5,
      onFailure: (failed, records, error) => failures.push({ consumer: failed.name, records, error }),
      consumers: [
        consumer('all', { filters: [], batchSize: 100, retryAttempts: 0 }),
        consumer('messages', {
          filters: [{ eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['message'] } } } }],
          batchSize: 2,
          retryAttempts: 0,
        }),
        consumer(
          'partial',
          {
            filters: [{ dynamodb: { Keys: { pk: { S: [{ prefix: 'RETRY#' }] } } } }],
            batchSize: 10,
            retryAttempts: 2,
          },
          async (records) => {
            // RETRY#2 and RETRY#3 fail on their first delivery only.
            const failing = records.filter(
              (record) =>
                ['RETRY#2', 'RETRY#3'].includes(pkOf(record)) &&
                attemptsByPk.get(`partial:${pkOf(record)}`) === 1,
            );
            return {
              batchItemFailures: failing.map((record) => ({
                itemIdentifier: record.dynamodb?.SequenceNumber ?? '',
              })),
            };
          },
        ),
        consumer(
          'exhaust',
          {
            filters: [{ dynamodb: { Keys: { pk: { S: [{ prefix: 'EXHAUST#' }] } } } }],
            batchSize: 1,
            retryAttempts: 2,
          },
          async (records) => ({
            batchItemFailures: records
              .filter((record) => pkOf(record) === 'EXHAUST#bad')
              .map((record) => ({ itemIdentifier: record.dynamodb?.SequenceNumber ?? '' })),
          }),
        ),
        consumer(
          'throws',
          {
            filters: [{ dynamodb: { Keys: { pk: { S: [{ prefix: 'THROW#' }] } } } }],
            batchSize: 1,
            retryAttempts: 1,
          },
          async (records) => {
            if (records.some((record) => pkOf(record) === 'THROW#bad')) throw new Error('handler exploded');
            return undefined;
          },
        ),
        consumer(
          'slow',
          {
            filters: [{ dynamodb: { Keys: { pk: { S: [{ prefix: 'SLOW#' }] } } } }],
            batchSize: 1,
            retryAttempts: 0,
          },
          async () => {
            await sleep(400);
            slowFinished = true;
            return undefined;
          },
        ),
      ],
    });
  });

  afterAll(async () => {
    await poller?.stop();
    client?.destroy();
    await dynamo?.stop();
  });

  it("delivers INSERT, MODIFY and REMOVE records shaped exactly like Lambda's DynamoDBStreamEvent", async () => {
    // Act
    await put('SHAPE#1', {
      entity: { S: 'chat' },
      blob: { B: new Uint8Array([1, 2, 3]) },
      count: { N: '1' },
    });
    await client.send(
      new UpdateItemCommand({
        TableName: TABLE,
        Key: { pk: { S: 'SHAPE#1' }, sk: { S: 'item' } },
        UpdateExpression: 'SET #count = :two',
        ExpressionAttributeNames: { '#count': 'count' },
        ExpressionAttributeValues: { ':two': { N: '2' } },
      }),
    );
    await client.send(
      new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: 'SHAPE#1' }, sk: { S: 'item' } } }),
    );
    await poller.idle();
    // Assess
    const [insert, modify, remove] = recordsOf('all', 'SHAPE#');
    expect([insert?.eventName, modify?.eventName, remove?.eventName]).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    expect(insert).toMatchObject({
      eventID: expect.any(String),
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: REGION,
      eventSourceARN: poller.streamArn,
      dynamodb: {
        Keys: { pk: { S: 'SHAPE#1' }, sk: { S: 'item' } },
        NewImage: {
          pk: { S: 'SHAPE#1' },
          sk: { S: 'item' },
          entity: { S: 'chat' },
          blob: { B: 'AQID' },
          count: { N: '1' },
        },
        SequenceNumber: expect.any(String),
        SizeBytes: expect.any(Number),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    });
    expect(insert?.eventSourceARN).toMatch(/^arn:aws:dynamodb:.*:table\/poller-test\/stream\//);
    expect(insert?.dynamodb).not.toHaveProperty('OldImage');
    const created = insert?.dynamodb?.ApproximateCreationDateTime ?? 0;
    expect(Number.isInteger(created)).toBe(true);
    expect(Math.abs(created - Date.now() / 1000)).toBeLessThan(120);
    expect(modify?.dynamodb?.OldImage?.count).toEqual({ N: '1' });
    expect(modify?.dynamodb?.NewImage?.count).toEqual({ N: '2' });
    expect(remove?.dynamodb).not.toHaveProperty('NewImage');
    expect(remove?.dynamodb?.OldImage?.pk).toEqual({ S: 'SHAPE#1' });
    expect(Number(modify?.dynamodb?.SequenceNumber)).toBeGreaterThan(
      Number(insert?.dynamodb?.SequenceNumber),
    );
  });

  it('starts at LATEST: records written before the poller started are never delivered', async () => {
    // Act
    await poller.idle();
    // Assess
    expect(recordsOf('all', 'BEFORE#')).toHaveLength(0);
    expect(recordsOf('messages', 'BEFORE#')).toHaveLength(0);
  });

  it('delivers only records matching the consumer filters, in stream order, in batches of at most batchSize', async () => {
    // Prepare
    const writes: Array<[string, string]> = [
      ['ORDER#1', 'message'],
      ['ORDER#2', 'chat'],
      ['ORDER#3', 'message'],
      ['ORDER#4', 'message'],
      ['ORDER#5', 'participant'],
      ['ORDER#6', 'message'],
      ['ORDER#7', 'message'],
    ];
    // Act
    for (const [pk, entity] of writes) await put(pk, { entity: { S: entity } });
    await put('ORDER#1', { entity: { S: 'message' }, text: { S: 'edited' } }); // a MODIFY: filtered out
    await poller.idle();
    // Assess
    const delivered = recordsOf('messages', 'ORDER#');
    expect(delivered.map(pkOf)).toEqual(['ORDER#1', 'ORDER#3', 'ORDER#4', 'ORDER#6', 'ORDER#7']);
    expect(delivered.every((record) => record.eventName === 'INSERT')).toBe(true);
    expect(batchesOf('messages').every((batch) => batch.length >= 1 && batch.length <= 2)).toBe(true);
    expect(recordsOf('all', 'ORDER#').map(pkOf)).toEqual([...writes.map(([pk]) => pk), 'ORDER#1']);
    const sequence = delivered.map((record) => BigInt(record.dynamodb?.SequenceNumber ?? '0'));
    expect([...sequence].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequence);
  });

  it('retries a partially failed batch from its first failed record; earlier records are not redelivered', async () => {
    // Act
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [TABLE]: ['RETRY#1', 'RETRY#2', 'RETRY#3', 'RETRY#4'].map((pk) => ({
            PutRequest: { Item: { pk: { S: pk }, sk: { S: 'item' } } },
          })),
        },
      }),
    );
    await poller.idle();
    // Assess
    const invocations = batchesOf('partial').map((batch) => batch.map(pkOf));
    expect(attemptsByPk.get('partial:RETRY#1')).toBe(1);
    expect(attemptsByPk.get('partial:RETRY#2')).toBe(2);
    const firstFailureIndex = invocations.findIndex((batch) => batch.includes('RETRY#2'));
    expect(invocations[firstFailureIndex + 1]?.[0]).toBe('RETRY#2');
    expect(invocations.flat().filter((pk) => pk === 'RETRY#4').length).toBeGreaterThanOrEqual(1);
    expect(failures.filter((failure) => failure.consumer === 'partial')).toHaveLength(0);
  });

  it('gives up after retryAttempts, reports the failed records to onFailure and moves on', async () => {
    // Act
    await put('EXHAUST#bad');
    await put('EXHAUST#next');
    await poller.idle();
    // Assess
    expect(attemptsByPk.get('exhaust:EXHAUST#bad')).toBe(3); // 1 attempt + 2 retries
    expect(attemptsByPk.get('exhaust:EXHAUST#next')).toBe(1);
    const failure = failures.find((candidate) => candidate.consumer === 'exhaust');
    expect(failure?.records.map(pkOf)).toEqual(['EXHAUST#bad']);
    expect(failure?.error).toBeInstanceOf(Error);
  });

  it('treats a thrown error as the whole batch failing and hands it to onFailure after the retries', async () => {
    // Act
    await put('THROW#bad');
    await put('THROW#good');
    await poller.idle();
    // Assess
    expect(attemptsByPk.get('throws:THROW#bad')).toBe(2); // 1 attempt + 1 retry
    expect(attemptsByPk.get('throws:THROW#good')).toBe(1);
    const failure = failures.find((candidate) => candidate.consumer === 'throws');
    expect(failure?.records.map(pkOf)).toEqual(['THROW#bad']);
    expect(failure?.error).toBeInstanceOf(Error);
    expect(String(failure?.error)).toContain('handler exploded');
  });

  it('runs consumers independently: a slow consumer does not hold back the others', async () => {
    // Act
    await put('SLOW#1');
    const deadline = Date.now() + 2_000;
    while (recordsOf('all', 'SLOW#').length === 0 && Date.now() < deadline) await sleep(5);
    // Assess
    expect(recordsOf('all', 'SLOW#')).toHaveLength(1);
    expect(slowFinished).toBe(false);
    await poller.idle();
    expect(slowFinished).toBe(true);
  });

  it('idles at the long interval once quiet, and a poke makes it read a new record at once', async () => {
    // Prepare: a second poller whose quiet interval (4 s) is far longer than the waits below
    const seen: string[] = [];
    const idler = await startStreamPoller({
      endpoint: dynamo.endpoint,
      region: REGION,
      tableName: TABLE,
      pollIntervalMs: 10,
      idlePollIntervalMs: 4_000,
      busyWindowMs: 200,
      consumers: [
        {
          name: 'idle',
          filters: [{ dynamodb: { Keys: { pk: { S: [{ prefix: 'IDLE#' }] } } } }],
          batchSize: 10,
          retryAttempts: 0,
          invoke: async (event: DynamoDBStreamEvent) => {
            seen.push(...event.Records.map(pkOf));
            return undefined;
          },
        },
      ],
    });
    try {
      await sleep(500);

      // Act
      await put('IDLE#1');
      await sleep(1_000);
      const beforePoke = [...seen];
      const poked = Date.now();
      idler.poke();
      while (seen.length === 0 && Date.now() - poked < 2_000) await sleep(5);
      const afterPokeMs = Date.now() - poked;

      // Assess
      expect(beforePoke).toEqual([]);
      expect(seen).toEqual(['IDLE#1']);
      expect(afterPokeMs).toBeLessThan(1_000);
    } finally {
      await idler.stop();
    }
  });
});
