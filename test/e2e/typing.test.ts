/**
 * Typing indicators end to end through the local cloud: real sockets, the emulated API Gateway and the
 * real handlers. Typing is pushed by the handler itself (no history, no stream); pollers read the chat's
 * typing state and get the very same envelope.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, type Envelope, type TestSocket } from '../support/clients.ts';
import { nextPollWait } from '../support/poll-waits.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let alice: string;
let bob: string;
let carol: string;
let dave: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  [alice, bob, carol, dave] = await Promise.all([
    client.token('demo', 'alice', 'user'),
    client.token('demo', 'bob', 'user'),
    client.token('demo', 'carol', 'user'),
    client.token('demo', 'dave', 'user'),
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

  it('delivers an HTTP typing fallback to the sockets and adds nothing to the chat’s history', async () => {
    // Prepare
    const chatId = await newChat();
    const a = await connect(client, alice);
    await a.request({ action: 'subscribe', chatId });

    // Act
    const response = await client.call('POST', `/v1/chats/${chatId}/typing`, bob, { isTyping: true });
    const received = await a.next((e) => e.type === 'typing');
    const polled = await client.call('GET', `/v1/chats/${chatId}/events?after=0`, alice);
    const history = await client.call('GET', `/v1/chats/${chatId}/messages?after=0`, alice);

    // Assess
    expect(response).toEqual({ status: 202, body: { isTyping: true, expiresInMs: 5000 } });
    expect(received.data).toMatchObject({ userId: 'bob', isTyping: true });
    // (presence envelopes of the earlier tests' sockets may be in the poll too)
    expect((polled.body.items as Envelope[]).filter((e) => e.type === 'typing')).toEqual([received]);
    expect(polled.body).toMatchObject({ nextAfter: 0, nextAfterEvent: 0, hasMore: false });
    expect(history.body.items).toEqual([]);
    expect(received).not.toHaveProperty('seq');
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

describe('typing over HTTP polling', () => {
  type Poll = { items: Envelope[]; nextSince: string };
  const poll = async (chatId: string, token: string, query = ''): Promise<Poll> => {
    const { status, body } = await client.call('GET', `/v1/chats/${chatId}/events?after=0${query}`, token);
    expect(status).toBe(200);
    return body as unknown as Poll;
  };

  it('gives a poller the typing envelope a subscribed socket received, byte for byte, and never the typer', async () => {
    // Prepare: carol's socket subscribes, bob only polls, alice types from her socket
    const chatId = (await client.call('POST', '/v1/chats', alice, { participants: ['bob', 'carol'] })).body
      .chatId as string;
    const [a, c] = await Promise.all([connect(client, alice), connect(client, carol)]);
    await Promise.all([a, c].map((socket) => socket.request({ action: 'subscribe', chatId })));

    // Act
    await a.request({ action: 'typing', chatId, isTyping: true });
    const pushed = await c.next((e) => e.type === 'typing');
    const bobs = await poll(chatId, bob);
    const alices = await poll(chatId, alice);

    // Assess
    const polled = bobs.items.filter((e) => e.type === 'typing');
    expect(polled).toEqual([pushed]);
    expect(JSON.stringify(polled[0])).toBe(JSON.stringify(pushed));
    expect(alices.items.filter((e) => e.type === 'typing')).toEqual([]);
    await Promise.all([a.close(), c.close()]);
  });

  it('wakes a long poll started before the typing, and does not return it again with nextSince', async () => {
    // Prepare: bob's socket subscribes (for comparison), bob's poller starts waiting first; dave, who
    // never opens a socket (so no presence envelope wakes the poll), types
    const chatId = (await client.call('POST', '/v1/chats', dave, { participants: ['bob'] })).body
      .chatId as string;
    const b = await connect(client, bob);
    await b.request({ action: 'subscribe', chatId });
    const start = await poll(chatId, bob);
    const started = nextPollWait();
    const waiting = poll(chatId, bob, `&waitSeconds=15&since=${start.nextSince}`);
    await started;

    // Act
    const sentAt = Date.now();
    const sent = await client.call('POST', `/v1/chats/${chatId}/typing`, dave, { isTyping: true });
    const woken = await waiting;
    const wokenAfter = Date.now() - sentAt;
    const pushed = await b.next((e) => e.type === 'typing');
    const againStarted = Date.now();
    const again = await poll(chatId, bob, `&waitSeconds=2&since=${woken.nextSince}`);
    const againTook = Date.now() - againStarted;

    // Assess
    expect(sent.status).toBe(202);
    expect(start.items).toEqual([]);
    expect(woken.items).toEqual([pushed]);
    expect(wokenAfter).toBeLessThan(3000);
    expect(again.items).toEqual([]);
    expect(againTook).toBeGreaterThanOrEqual(1500);
    await b.close();
  });
});
