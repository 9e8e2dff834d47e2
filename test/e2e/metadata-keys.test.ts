/**
 * The local cloud with other indexed metadata keys, taken from INDEXED_METADATA_KEYS as `npm start`
 * does: the table's GSIs and the handlers' configuration come from the same list.
 */
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, chatIdsOf } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let agent: string;

const previousKeys = process.env.INDEXED_METADATA_KEYS;
beforeAll(async () => {
  process.env.INDEXED_METADATA_KEYS = 'region, customer.tier';
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, demoTexts: {} });
  client = api(cloud.urls.http);
  agent = await client.token('demo', 'agent-keys', 'agent');
});
afterAll(async () => {
  await cloud?.stop();
  if (previousKeys === undefined) delete process.env.INDEXED_METADATA_KEYS;
  else process.env.INDEXED_METADATA_KEYS = previousKeys;
});

const createChat = (metadata: Record<string, unknown>) =>
  client.createChat(agent, { metadata, participants: ['bob'] });
const chatIds = chatIdsOf;

describe('local cloud with INDEXED_METADATA_KEYS=region,customer.tier', () => {
  it('builds the table with two GSIs per configured key and nothing for the default keys', async () => {
    // Act
    const dynamo = new DynamoDBClient({ endpoint: cloud.urls.dynamodb });
    const { Table: table } = await dynamo.send(new DescribeTableCommand({ TableName: cloud.tableName }));
    dynamo.destroy();

    // Assess
    expect(cloud.indexedMetadataKeys).toEqual(['region', 'customer.tier']);
    expect((table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).sort()).toEqual([
      'byMeta1',
      'byMeta2',
      'byMetaRange1',
      'byMetaRange2',
      'byParticipant',
      'byTenant',
      'byTenantChanges',
    ]);
  });

  it('answers filters on the configured keys and refuses the default keys, naming the configured ones', async () => {
    // Prepare
    const gold = await createChat({ region: 'eu', customer: { tier: 'gold' }, project_id: 'p1' });
    const silver = await createChat({ region: 'eu', customer: { tier: 'silver' } });
    await createChat({ region: 'us', customer: { tier: 'gold' } });

    // Act
    const eu = await client.call('GET', '/v1/chats?metadata__region=eu', agent);
    const prefix = await client.call(
      'GET',
      '/v1/chats?metadata__customer.tier__begins_with=go&metadata__region=eu',
      agent,
    );
    const project = await client.call('GET', '/v1/chats?metadata__project_id=p1', agent);

    // Assess
    expect(eu.status).toBe(200);
    expect(chatIds(eu.body)).toEqual([silver, gold]);
    expect(prefix.status).toBe(200);
    expect(chatIds(prefix.body)).toEqual([gold]);
    expect(project.status).toBe(400);
    expect(JSON.stringify(project.body)).toContain('(region, customer.tier)');
  });
});
