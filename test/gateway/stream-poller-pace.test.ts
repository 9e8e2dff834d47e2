/**
 * The stream poller's pacing: while `minRoundGapMs` asks for a pause (the local cloud does so when it is
 * overloaded), reads start at least that far apart and records come in bigger batches; once it asks for
 * none, the poller reads again as soon as records arrive.
 */
import { type DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoLocal } from '../../infra/local/dynamo.ts';
import { type StreamPoller, startStreamPoller } from '../../infra/local/stream-poller.ts';
import { startStreamTable } from '../support/dynamo.ts';
import { until } from '../support/clients.ts';

const REGION = 'us-east-1';
const TABLE = 'poller-pace';

let dynamo: DynamoLocal;
let client: DynamoDBClient;
let poller: StreamPoller;
let gapMs = 0;
/** When each invocation started and how many records it got. */
const invocations: { at: number; records: number; pks: string[] }[] = [];

beforeAll(async () => {
  ({ dynamo, client } = await startStreamTable(TABLE, REGION));
  poller = await startStreamPoller({
    endpoint: dynamo.endpoint,
    region: REGION,
    tableName: TABLE,
    pollIntervalMs: 5,
    minRoundGapMs: () => gapMs,
    consumers: [
      {
        name: 'all',
        filters: [],
        batchSize: 1000,
        retryAttempts: 0,
        invoke: async (event: DynamoDBStreamEvent) => {
          const pks = event.Records.map((record) => record.dynamodb?.Keys?.pk?.S ?? '');
          invocations.push({ at: Date.now(), records: pks.length, pks });
        },
      },
    ],
  });
});
afterAll(async () => {
  await poller?.stop();
  client?.destroy();
  await dynamo?.stop();
});

/** Writes `count` items one after another, each poking the poller as the local cloud's handlers do. */
const writeOneByOne = async (prefix: string, count: number): Promise<void> => {
  for (let i = 0; i < count; i++) {
    await client.send(
      new PutItemCommand({ TableName: TABLE, Item: { pk: { S: `${prefix}#${i}` }, sk: { S: 'item' } } }),
    );
    poller.poke();
  }
};
const delivered = (prefix: string) =>
  invocations.filter((invocation) => invocation.pks.some((pk) => pk.startsWith(`${prefix}#`)));

describe('stream poller pacing', () => {
  it('reads no more often than minRoundGapMs allows while asked to, and reads at once again when no longer asked', async () => {
    // Prepare
    gapMs = 200;
    const pacedFrom = Date.now();

    // Act: 40 writes while paced, then 40 without a pause asked.
    await writeOneByOne('PACED', 40);
    await until(() => delivered('PACED').flatMap((i) => i.pks).length === 40, 10_000);
    gapMs = 0;
    await writeOneByOne('FREE', 40);
    await until(() => delivered('FREE').flatMap((i) => i.pks).length === 40, 10_000);

    // Assess: paced, reads start at least 200 ms apart, so the records came in at most one invocation per
    // 200 ms of the time they took (a busy machine only makes reads, and so invocations, fewer); unpaced,
    // the same writes come in many more, smaller reads.
    const paced = delivered('PACED');
    const pacedMs = (paced.at(-1)?.at ?? pacedFrom) - pacedFrom;
    expect(paced.length).toBeLessThanOrEqual(Math.ceil(pacedMs / 200) + 1);
    expect(paced.length).toBeLessThan(40);
    expect(delivered('FREE').length).toBeGreaterThan(paced.length);
  });
});
