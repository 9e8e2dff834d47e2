/**
 * Per-identity quotas and the long-poll bound through the local cloud: 429 `rate_limited` with
 * Retry-After past a quota (HTTP) or an `error` frame with `retryAfter` (socket), nothing changed by a
 * refused request, and a long poll past the bound answered at once.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { api, connect, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cloud = await startLocalCloud({
    webPort: 0,
    httpPort: 0,
    wsPort: 0,
    env: {
      QUOTA_CHATS: '2/1h',
      QUOTA_MESSAGES: '3/1h',
      QUOTA_SOCKETS: '2/1h',
      QUOTA_UPLOADS: '1/1d',
      QUOTA_SYSTEM_EVENTS: '1/1h',
      LONG_POLLS_PER_IDENTITY: '1',
    },
  });
  client = api(cloud.urls.http);
});
afterAll(async () => {
  await cloud?.stop();
});

/** A raw call that keeps the response headers. */
const raw = async (method: string, path: string, token: string, body?: unknown) => {
  const response = await fetch(`${cloud.urls.http}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as { error?: { code: string; message: string; retryAfter?: number } },
  };
};

const visitorToken = async (): Promise<string> =>
  (await client.ok<{ token: string }>('POST', '/v1/visitors', undefined, { tenantId: 'demo' })).token;

const expectRateLimited = (response: Awaited<ReturnType<typeof raw>>, maxSeconds: number) => {
  expect(response.status).toBe(429);
  expect(response.body.error).toMatchObject({ code: 'rate_limited', message: expect.any(String) });
  const seconds = Number(response.retryAfter);
  expect(Number.isInteger(seconds) && seconds >= 1 && seconds <= maxSeconds).toBe(true);
  expect(response.body.error?.retryAfter).toBe(seconds);
};

describe('per-identity quotas', () => {
  it('refuses a visitor’s chat past the hourly quota with 429 and Retry-After, and creates nothing', async () => {
    // Prepare
    const visitor = await visitorToken();
    await client.createChat(visitor, { subject: 'one' });
    await client.createChat(visitor, { subject: 'two' });
    const before = await client.ok<{ items: unknown[] }>('GET', '/v1/chats', visitor);

    // Act
    const third = await raw('POST', '/v1/chats', visitor, { subject: 'three' });
    const after = await client.ok<{ items: unknown[] }>('GET', '/v1/chats', visitor);
    const otherVisitor = await raw('POST', '/v1/chats', await visitorToken(), { subject: 'mine' });

    // Assess
    expectRateLimited(third, 3600);
    expect(after.items).toEqual(before.items);
    expect(otherVisitor.status).toBe(201);
  });

  it('counts messages over HTTP and the socket together: past the quota a 429 and an error frame with retryAfter, nothing stored', async () => {
    // Prepare
    const [ursula, agent] = await Promise.all([
      client.token('demo', 'ursula', 'user'),
      client.token('demo', 'quota-agent', 'agent'),
    ]);
    const chatId = await client.createChat(ursula, { participants: ['quota-agent'] });
    const send = (id: string) =>
      raw('POST', `/v1/chats/${chatId}/messages`, ursula, { clientMessageId: id, type: 'text', text: id });
    const socket = await connect(client, ursula);
    expect((await send('m1')).status).toBe(201);
    expect((await send('m2')).status).toBe(201);
    const viaSocket = await socket.request({
      action: 'sendMessage',
      chatId,
      clientMessageId: 'm3',
      type: 'text',
      text: 'm3',
    });

    // Act
    const refusedFrame = await socket.request({
      action: 'sendMessage',
      chatId,
      clientMessageId: 'm4',
      type: 'text',
      text: 'm4',
    });
    const refusedHttp = await send('m5');
    const agentSend = await raw('POST', `/v1/chats/${chatId}/messages`, agent, {
      clientMessageId: 'a1',
      type: 'text',
      text: 'the agent counts apart',
    });
    const stored = await client.ok<{ items: { clientMessageId?: string }[] }>(
      'GET',
      `/v1/chats/${chatId}/messages`,
      ursula,
    );
    await socket.close();

    // Assess
    expect(viaSocket.type).toBe('ack');
    expect(refusedFrame.type).toBe('error');
    expect(refusedFrame.data).toMatchObject({ code: 'rate_limited', retryAfter: expect.any(Number) });
    expectRateLimited(refusedHttp, 3600);
    expect(agentSend.status).toBe(201);
    expect(stored.items.map((message) => message.clientMessageId).filter(Boolean)).toEqual([
      'm1',
      'm2',
      'm3',
      'a1',
    ]);
  });

  it('refuses a realtime ticket past the sockets quota', async () => {
    // Prepare
    const tess = await client.token('demo', 'tess', 'user');
    await client.ok('POST', '/v1/realtime/tickets', tess);
    await client.ok('POST', '/v1/realtime/tickets', tess);

    // Act
    const third = await raw('POST', '/v1/realtime/tickets', tess);

    // Assess
    expectRateLimited(third, 3600);
  });

  it('refuses a visitor’s upload past the daily quota', async () => {
    // Prepare
    const visitor = await visitorToken();
    const chatId = await client.createChat(visitor, { subject: 'files' });
    const upload = { fileName: 'a.txt', contentType: 'text/plain', size: 10 };
    expect((await raw('POST', `/v1/chats/${chatId}/attachments`, visitor, upload)).status).toBe(201);

    // Act
    const second = await raw('POST', `/v1/chats/${chatId}/attachments`, visitor, upload);

    // Assess
    expectRateLimited(second, 86_400);
  });

  it('refuses a service’s system event past its quota and stores no message', async () => {
    // Prepare
    const service = await client.token('demo', 'payments', 'service');
    const chatId = await client.createChat(service, { participants: ['ursula'] });
    const event = (text: string) =>
      raw('POST', `/v1/chats/${chatId}/system-events`, service, { kind: 'payment.initiated', text });
    expect((await event('first')).status).toBe(201);

    // Act
    const second = await event('second');
    const stored = await client.ok<{ items: { text?: string }[] }>(
      'GET',
      `/v1/chats/${chatId}/messages`,
      service,
    );

    // Assess
    expectRateLimited(second, 3600);
    expect(stored.items.map((message) => message.text)).not.toContain('second');
  });
});

describe('long polls per identity', () => {
  it('answers a long poll past the bound at once with longPollRefused, and waits again once the lease is back', async () => {
    // Prepare
    const lena = await client.token('demo', 'lena', 'user');
    const chatId = await client.createChat(lena, { participants: ['quiet-user'] });
    const path = `/v1/chats/${chatId}/events?waitSeconds=3`;
    const table = createTableContext(cloud.tableName, cloud.urls.dynamodb);
    const leases = async () =>
      (
        await table.doc.send(
          new QueryCommand({
            TableName: cloud.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': 'LEASE#demo#user#lena#longPolls' },
          }),
        )
      ).Items?.reduce((sum, item) => sum + Number(item.hits), 0) ?? 0;
    const holding = client.call('GET', path, lena);
    await until(async () => (await leases()) === 1);

    // Act
    const startedAt = Date.now();
    const refused = await client.call('GET', path, lena);
    const refusedMs = Date.now() - startedAt;
    const held = await holding;
    await until(async () => (await leases()) === 0);
    const again = await client.call('GET', `/v1/chats/${chatId}/events?waitSeconds=1`, lena);

    // Assess
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ hasMore: false, longPollRefused: true });
    expect(refusedMs).toBeLessThan(2500);
    expect(held.status).toBe(200);
    expect(held.body.longPollRefused).toBeUndefined();
    expect(again.body.longPollRefused).toBeUndefined();
  });
});
