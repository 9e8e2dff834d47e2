/**
 * Typing indicators end to end through the local cloud: real sockets, the emulated API Gateway and the
 * real handlers. Typing is pushed by the handler itself (nothing stored, no stream).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, type Envelope, type TestSocket } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let alice: string;
let bob: string;
let carol: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  [alice, bob, carol] = await Promise.all([
    client.token('demo', 'alice', 'user'),
    client.token('demo', 'bob', 'user'),
    client.token('demo', 'carol', 'user'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

const newChat = async (): Promise<string> => {
  const { status, body } = await client.call('POST', '/v1/chats', alice, { participants: ['bob'] });
  expect(status).toBe(201);
  return body.chatId as unknown as string;
};

const typingOf = (socket: TestSocket): Envelope[] => socket.received.filter((e) => e.type === 'typing');
/** Pushes finish before the handler answers; give the sockets a moment to read what is in flight. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

describe('typing indicators over the local cloud', () => {
  it('reaches the other participant’s socket and none of the sender’s own tabs', async () => {
    // Prepare
    const chatId = await newChat();
    const [tab1, tab2, b] = await Promise.all([
      connect(client, alice),
      connect(client, alice),
      connect(client, bob),
    ]);
    await Promise.all([tab1, tab2, b].map((socket) => socket.request({ action: 'subscribe', chatId })));

    // Act
    const reply = await tab1.request({ action: 'typing', chatId, isTyping: true });
    const received = await b.next((e) => e.type === 'typing');
    await settle();

    // Assess
    expect(reply.type).toBe('ack');
    expect(reply.data).toEqual({ isTyping: true, expiresInMs: 5000 });
    expect(received).toMatchObject({
      chatId,
      tenantId: 'demo',
      data: { userId: 'alice', isTyping: true, expiresInMs: 5000 },
    });
    expect(typingOf(b)).toHaveLength(1);
    expect(typingOf(tab1)).toHaveLength(0);
    expect(typingOf(tab2)).toHaveLength(0);
    await Promise.all([tab1.close(), tab2.close(), b.close()]);
  });

  it('delivers an HTTP typing fallback to the sockets and stores nothing a poller could see', async () => {
    // Prepare
    const chatId = await newChat();
    const a = await connect(client, alice);
    await a.request({ action: 'subscribe', chatId });

    // Act
    const response = await client.call('POST', `/v1/chats/${chatId}/typing`, bob, { isTyping: true });
    const received = await a.next((e) => e.type === 'typing');
    const polled = await client.call('GET', `/v1/chats/${chatId}/events?after=0`, alice);

    // Assess
    expect(response).toEqual({ status: 202, body: { isTyping: true, expiresInMs: 5000 } });
    expect(received.data).toMatchObject({ userId: 'bob', isTyping: true });
    expect(polled.body.items).toEqual([]);
    await a.close();
  });

  it('refuses a second typing event within a second: 429 over HTTP, rate_limited over the socket', async () => {
    // Prepare
    const chatId = await newChat();
    const b = await connect(client, bob);
    await b.request({ action: 'subscribe', chatId });
    await client.call('POST', `/v1/chats/${chatId}/typing`, alice, { isTyping: true });
    await b.next((e) => e.type === 'typing');

    // Act
    const overHttp = await client.call('POST', `/v1/chats/${chatId}/typing`, alice, { isTyping: true });
    const bobFirst = await b.request({ action: 'typing', chatId, isTyping: true });
    const bobAgain = await b.request({ action: 'typing', chatId, isTyping: true });
    const bobStops = await b.request({ action: 'typing', chatId, isTyping: false });
    await settle();

    // Assess
    expect(overHttp.status).toBe(429);
    expect((overHttp.body.error as { code: string }).code).toBe('rate_limited');
    expect(bobFirst.type).toBe('ack');
    expect(bobAgain.type).toBe('error');
    expect(bobAgain.data.code).toBe('rate_limited');
    expect(bobStops.type).toBe('ack');
    expect(typingOf(b)).toHaveLength(1);
    await b.close();
  });

  it('refuses typing from a non-participant: 403 over HTTP and a forbidden error over the socket', async () => {
    // Prepare
    const chatId = await newChat();
    const b = await connect(client, bob);
    await b.request({ action: 'subscribe', chatId });
    const c = await connect(client, carol);

    // Act
    const overHttp = await client.call('POST', `/v1/chats/${chatId}/typing`, carol, { isTyping: true });
    const overSocket = await c.request({ action: 'typing', chatId, isTyping: true });
    await settle();

    // Assess
    expect(overHttp.status).toBe(403);
    expect(overSocket.type).toBe('error');
    expect(overSocket.data.code).toBe('forbidden');
    expect(typingOf(b)).toHaveLength(0);
    await Promise.all([b.close(), c.close()]);
  });

  it('refuses malformed typing input with 400 / invalid_request', async () => {
    // Prepare
    const chatId = await newChat();
    const a = await connect(client, alice);

    // Act
    const overHttp = await client.call('POST', `/v1/chats/${chatId}/typing`, alice, { isTyping: 'yes' });
    const overSocket = await a.request({ action: 'typing', chatId });

    // Assess
    expect(overHttp.status).toBe(400);
    expect(overSocket.data.code).toBe('invalid_request');
    await a.close();
  });
});
