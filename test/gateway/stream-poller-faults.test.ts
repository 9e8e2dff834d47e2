/**
 * The stream poller under the fault plan (infra/local/faults.ts): a batch delivered again (at least
 * once), and an invocation that times out at a random point mid-batch, its work abandoned and the batch
 * retried, then handed to the failure queue as AWS does after the retries.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLocal } from '../../infra/local/dynamo.ts';
import { FaultInjector } from '../../infra/local/faults.ts';
import { type StreamPoller, startStreamPoller } from '../../infra/local/stream-poller.ts';
import { startStreamTable } from '../support/dynamo.ts';

const REGION = 'us-east-1';
const TABLE = 'poller-faults';
const pkOf = (record: DynamoDBRecord): string => record.dynamodb?.Keys?.pk?.S ?? '';

let dynamo: DynamoLocal;
let client: DynamoDBClient;
const pollers: StreamPoller[] = [];

beforeAll(async () => {
  ({ dynamo, client } = await startStreamTable(TABLE, REGION));
});
afterAll(async () => {
  for (const poller of pollers) await poller.stop();
  client?.destroy();
  await dynamo?.stop();
});

const put = (pk: string) =>
  client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: pk }, sk: { S: 'item' } } }));

describe('stream poller faults', () => {
  it('delivers a processed batch again for its share of batches, every record at least once', async () => {
    // Prepare
    const batches: string[][] = [];
    const poller = await startStreamPoller({
      endpoint: dynamo.endpoint,
      region: REGION,
      tableName: TABLE,
      pollIntervalMs: 10,
      faults: new FaultInjector({ seed: 5, stream: { redeliver: 0.5 } }),
      consumers: [
        {
          name: 'redelivered',
          filters: [{ dynamodb: { Keys: { pk: { S: [{ prefix: 'RE#' }] } } } }],
          batchSize: 1,
          retryAttempts: 0,
          invoke: async (event: DynamoDBStreamEvent) => void batches.push(event.Records.map(pkOf)),
        },
      ],
    });
    pollers.push(poller);

    // Act
    for (let i = 0; i < 8; i++) await put(`RE#${i}`);
    await poller.idle();

    // Assess: in stream order, each at least once, some twice in a row
    const delivered = batches.flat();
    expect([...new Set(delivered)]).toEqual(Array.from({ length: 8 }, (_, i) => `RE#${i}`));
    expect(delivered.length).toBeGreaterThan(8);
    expect(batches.some((batch, index) => index > 0 && batch[0] === batches[index - 1]?.[0])).toBe(true);
  });

  it('fails a timed-out invocation with "Task timed out" while its handler is abandoned, retries it, then gives up', async () => {
    // Prepare: a handler that never finishes by itself
    const invocations: string[][] = [];
    const failures: { records: string[]; error: string }[] = [];
    const poller = await startStreamPoller({
      endpoint: dynamo.endpoint,
      region: REGION,
      tableName: TABLE,
      pollIntervalMs: 10,
      retryDelayMs: 5,
      faults: new FaultInjector({ seed: 1, stream: { timeout: 1, timeoutWithinMs: 50 } }),
      onFailure: (_consumer, records, error) =>
        failures.push({ records: records.map(pkOf), error: String(error) }),
      consumers: [
        {
          name: 'stuck',
          filters: [{ dynamodb: { Keys: { pk: { S: [{ prefix: 'TO#' }] } } } }],
          batchSize: 10,
          retryAttempts: 2,
          timeoutMs: 60_000,
          invoke: (event: DynamoDBStreamEvent) => {
            invocations.push(event.Records.map(pkOf));
            return new Promise(() => {});
          },
        },
      ],
    });
    pollers.push(poller);

    // Act
    await put('TO#1');
    await expect.poll(() => failures.length, { timeout: 10_000 }).toBe(1);

    // Assess: the first try and two retries, each failed long before the 60 s timeout
    expect(invocations).toEqual([['TO#1'], ['TO#1'], ['TO#1']]);
    expect(failures[0]).toEqual({ records: ['TO#1'], error: 'Error: Task timed out after 60 seconds' });
  });
});
