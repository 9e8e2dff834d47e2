/**
 * Requests that ended in a 500 (issue 13 and what test/fuzz/routes.test.ts found), now each a 400 with
 * the error envelope that stores nothing, end to end over the local cloud. Each test failed before its fix.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { createTableContext, type TableContext } from '../../shared/adapters/dynamo/client.ts';
import { indexByName } from '../../shared/config/table.ts';
import { api } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let table: TableContext;
let agent: string;
let user: string;
let service: string;
let chatId: string;

beforeAll(async () => {
  cloud = await startLocalCloud({
    webPort: 0,
    httpPort: 0,
    wsPort: 0,
    demoTexts: {},
    tumblingWindowSeconds: 1,
  });
  client = api(cloud.urls.http);
  table = createTableContext(cloud.tableName, cloud.urls.dynamodb);
  [agent, user, service] = await Promise.all([
    client.token('demo', 'rg-agent', 'agent'),
    client.token('demo', 'rg-user', 'user'),
    client.token('demo', 'rg-service', 'service'),
  ]);
  chatId = await client.createChat(user, { subject: 'regressions', participants: ['rg-agent'] });
  await client.ok('POST', '/v1/blocks', user, { userId: 'someone' });
});
afterAll(async () => {
  await cloud?.stop();
});

/** Every item of the (small) table, as text, without rate-limit windows (they count attempts). */
const tableState = async (): Promise<string[]> => {
  await cloud.windowsClosed();
  const { Items = [] } = await table.doc.send(
    new ScanCommand({ TableName: table.tableName, ConsistentRead: true }),
  );
  return Items.filter((item) => item.entity !== 'rateLimit')
    .map((item) => JSON.stringify(item))
    .sort();
};

/** Sends a raw JSON text (the test clients would stringify it). */
const send = async (method: 'POST' | 'PATCH', path: string, body: string, token?: string) => {
  const response = await fetch(`${cloud.urls.http}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  return {
    status: response.status,
    body: (await response.json()) as { error?: { code: string; message: string } },
  };
};

const nestedArrays = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObjects = (depth: number): string => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
const cursor = (key: Record<string, unknown>): string =>
  encodeURIComponent(Buffer.from(JSON.stringify(key)).toString('base64url'));

describe('bodies too deep or holding numbers DynamoDB cannot store are refused with 400 and store nothing', () => {
  it('refuses metadata nested 5,000 levels deep with 400 before authenticating (a validator stack overflow before)', async () => {
    // Prepare
    const before = await tableState();

    // Act
    const response = await send('POST', '/v1/chats', `{"metadata":{"x":${nestedArrays(5_000)}}}`);

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error?.code).toBe('invalid_request');
    expect(await tableState()).toEqual(before);
  });

  it("refuses metadata nested 33 levels deep, past DynamoDB's 32, with 400 (DynamoDB's ValidationException was a 500)", async () => {
    // Prepare
    const before = await tableState();

    // Act
    const response = await send('POST', '/v1/chats', `{"metadata":{"x":${nestedObjects(32)}}}`, agent);

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error?.code).toBe('invalid_request');
    expect(await tableState()).toEqual(before);
  });

  it('refuses metadata nested more than 16 levels deep with 400 and stores nothing', async () => {
    // Prepare
    const before = await tableState();

    // Act
    const created = await send('POST', '/v1/chats', `{"metadata":{"x":${nestedObjects(16)}}}`, agent);
    const patched = await send(
      'PATCH',
      `/v1/chats/${chatId}`,
      `{"metadata":{"x":${nestedObjects(16)}}}`,
      agent,
    );

    // Assess
    expect([created.status, patched.status]).toEqual([400, 400]);
    expect(created.body.error?.message).toBe('invalid body');
    expect(await tableState()).toEqual(before);
  });

  it('accepts metadata nested 16 levels deep in a chat, its change and a system event', async () => {
    // Act
    const created = await send('POST', '/v1/chats', `{"metadata":{"x":${nestedObjects(15)}}}`, agent);
    const patched = await send(
      'PATCH',
      `/v1/chats/${chatId}`,
      `{"metadata":{"y":${nestedObjects(15)}}}`,
      agent,
    );
    const event = await send(
      'POST',
      `/v1/chats/${chatId}/system-events`,
      `{"kind":"deep.data","text":"deep","data":{"y":${nestedObjects(15)}}}`,
      service,
    );

    // Assess
    expect([created.status, patched.status, event.status]).toEqual([201, 200, 201]);
  });

  it('refuses metadata numbers past Number.MAX_SAFE_INTEGER (shrunk fuzz counterexample: {"a":[2.47e280]})', async () => {
    // Prepare
    const before = await tableState();

    // Act
    const created = await send('POST', '/v1/chats', '{"metadata":{"a":[2.4731159935009105e280]}}', agent);
    const patched = await send('PATCH', `/v1/chats/${chatId}`, '{"metadata":{"n":9007199254740993}}', agent);

    // Assess
    expect([created.status, patched.status]).toEqual([400, 400]);
    expect(await tableState()).toEqual(before);
  });

  it('refuses system event data with a number smaller than DynamoDB stores (1e-200) with 400', async () => {
    // Prepare
    const before = await tableState();

    // Act
    const response = await send(
      'POST',
      `/v1/chats/${chatId}/system-events`,
      '{"kind":"payment.initiated","text":"paid","data":{"amount":1e-200}}',
      service,
    );

    // Assess
    expect(response.status).toBe(400);
    expect(await tableState()).toEqual(before);
  });

  it('answers a ticket request whose body is not JSON with 400 (JSON.parse threw a 500 before)', async () => {
    // Act
    const response = await send('POST', '/v1/realtime/tickets', '{not json', user);

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({ code: 'invalid_request', message: 'the body must be valid JSON' });
  });
});

describe('crafted pagination cursors are refused with 400', () => {
  const byTenant = indexByName('byTenant');

  it.each([
    [
      'GET /v1/chats (agent): an index key without the table key',
      () =>
        `/v1/chats?cursor=${cursor({ [byTenant.partitionKey]: 'TCHATS#demo', [byTenant.sortKey]: 'zzz' })}`,
      () => agent,
    ],
    [
      'GET /v1/chats (agent): a key attribute of the wrong type',
      () =>
        `/v1/chats?cursor=${cursor({ [byTenant.partitionKey]: 'TCHATS#demo', [byTenant.sortKey]: { S: 'x' } })}`,
      () => agent,
    ],
    [
      'GET /v1/chats/{chatId}/audit: a sort key outside the audit records',
      () => `/v1/chats/${chatId}/audit?cursor=${cursor({ pk: `CHAT#${chatId}`, sk: 'zzz' })}`,
      () => agent,
    ],
    [
      'GET /v1/blocks: a partition key without its sort key',
      () => `/v1/blocks?cursor=${cursor({ pk: 'BLOCKS#demo#rg-user' })}`,
      () => user,
    ],
  ])('%s', async (_name, path, token) => {
    // Act
    const response = await client.call('GET', path(), token());

    // Assess
    expect(response.status).toBe(400);
    expect(response.body.error).toMatchObject({ code: 'invalid_request', message: 'invalid cursor' });
  });
});
