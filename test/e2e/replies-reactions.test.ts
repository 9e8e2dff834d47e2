/** Replies (quotes, reply counts, threads) and reactions through the local cloud: HTTP, sockets, polls. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let alice: string;
let bob: string;
let carol: string;
let agent: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  [alice, bob, carol, agent] = await Promise.all([
    client.token('demo', 'alice', 'user'),
    client.token('demo', 'bob', 'user'),
    client.token('demo', 'carol', 'user'),
    client.token('demo', 'agent-7', 'agent'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

interface Sent {
  messageId: string;
  seq: number;
  replyTo?: Record<string, unknown>;
  replyCount?: number;
  reactions?: unknown[];
}

let counter = 0;
const send = (chatId: string, token: string, text: string, extra: Record<string, unknown> = {}) =>
  client.call('POST', `/v1/chats/${chatId}/messages`, token, {
    clientMessageId: `c${++counter}`,
    type: 'text',
    text,
    ...extra,
  });
const sent = async (chatId: string, token: string, text: string, extra: Record<string, unknown> = {}) => {
  const response = await send(chatId, token, text, extra);
  if (response.status !== 201 && response.status !== 200)
    throw new Error(`send: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body as unknown as Sent;
};
const reactionPath = (chatId: string, messageId: string, emoji: string) =>
  `/v1/chats/${chatId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`;
const history = async (chatId: string, token: string) =>
  (await client.ok<{ items: Sent[] }>('GET', `/v1/chats/${chatId}/messages`, token)).items;

describe('replies', () => {
  it('quotes the parent, counts the reply once in the parent through message.updated, and pages the thread', async () => {
    // Prepare
    const chatId = await client.createChat(alice, { participants: ['bob'] });
    const parent = await sent(chatId, alice, `${'long text '.repeat(30)}end`);
    const socket = await connect(client, alice);
    await socket.request({ action: 'subscribe', chatId });

    // Act
    const clientMessageId = 'reply-once';
    const first = await send(chatId, bob, 'first answer', { clientMessageId, replyTo: parent.messageId });
    const again = await send(chatId, bob, 'first answer', { clientMessageId, replyTo: parent.messageId });
    const second = await sent(chatId, alice, 'second answer', { replyTo: parent.messageId });
    await until(() => socket.received.filter((e) => e.type === 'message.updated').length >= 2);
    const thread = await client.ok<{ items: Sent[] }>(
      'GET',
      `/v1/chats/${chatId}/messages/${parent.messageId}/replies?limit=1`,
      bob,
    );
    const rest = await client.ok<{ items: Sent[]; nextCursor?: string }>(
      'GET',
      `/v1/chats/${chatId}/messages/${parent.messageId}/replies?after=${thread.items[0]?.seq}`,
      bob,
    );
    const stored = (await history(chatId, bob)).find((m) => m.seq === parent.seq);

    // Assess
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(first.body.replyTo).toEqual({
      messageId: parent.messageId,
      seq: parent.seq,
      senderId: 'alice',
      text: [...`${'long text '.repeat(30)}end`].slice(0, 200).join(''),
    });
    expect(stored).toMatchObject({ replyCount: 2 });
    const counts = socket.received
      .filter((e) => e.type === 'message.updated')
      .map((e) => (e.data as { replyCount?: number }).replyCount);
    expect(counts).toEqual([1, 2]);
    expect(thread.items.map((m) => m.messageId)).toEqual([first.body.messageId]);
    expect(rest.items.map((m) => m.messageId)).toEqual([second.messageId]);
    expect(rest.nextCursor).toBeUndefined();
    await socket.close();
  });

  it('counts concurrent replies exactly', async () => {
    const chatId = await client.createChat(alice, { participants: ['bob', 'carol'] });
    const parent = await sent(chatId, alice, 'question');

    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        sent(chatId, [alice, bob, carol][i % 3] as string, `answer ${i}`, { replyTo: parent.messageId }),
      ),
    );

    const stored = (await history(chatId, alice)).find((m) => m.seq === parent.seq);
    const thread = await client.ok<{ items: Sent[] }>(
      'GET',
      `/v1/chats/${chatId}/messages/${parent.messageId}/replies`,
      alice,
    );
    expect(stored?.replyCount).toBe(8);
    expect(thread.items).toHaveLength(8);
  });

  it('masks the quote once the parent is deleted and keeps the replies readable', async () => {
    const chatId = await client.createChat(alice, { participants: ['bob'] });
    const parent = await sent(chatId, alice, 'secret plan');
    const reply = await sent(chatId, bob, 'sounds good', { replyTo: parent.messageId });

    await client.ok('DELETE', `/v1/chats/${chatId}/messages/${parent.messageId}`, alice);
    const late = await send(chatId, bob, 'too late', { replyTo: parent.messageId });
    const page = await history(chatId, bob);
    const tail = await client.ok<{ items: { type: string; data: Sent }[] }>(
      'GET',
      `/v1/chats/${chatId}/events?after=${reply.seq - 1}`,
      bob,
    );
    const thread = await client.ok<{ items: Sent[] }>(
      'GET',
      `/v1/chats/${chatId}/messages/${parent.messageId}/replies`,
      bob,
    );

    const masked = { messageId: parent.messageId, seq: parent.seq, senderId: 'alice', deleted: true };
    expect(late.status).toBe(409);
    expect(page.find((m) => m.seq === reply.seq)?.replyTo).toEqual(masked);
    expect(tail.items.find((e) => e.type === 'message.created')?.data.replyTo).toEqual(masked);
    expect(thread.items.map((m) => m.replyTo)).toEqual([masked]);
    const messages = [...page, ...tail.items.filter((e) => e.type === 'message.created'), ...thread.items];
    expect(JSON.stringify(messages)).not.toContain('secret plan');
  });

  it('refuses a reply to a message of another chat or to no message with 404, changing nothing', async () => {
    const chatId = await client.createChat(alice, { participants: ['bob'] });
    const other = await client.createChat(alice, { participants: ['bob'] });
    const elsewhere = await sent(other, alice, 'in the other chat');

    const foreign = await send(chatId, bob, 'x', { replyTo: elsewhere.messageId });
    const missing = await send(chatId, bob, 'x', { replyTo: 'm_000000000000_9' });
    const malformed = await send(chatId, bob, 'x', { replyTo: 'nope' });

    expect([foreign.status, missing.status, malformed.status]).toEqual([404, 404, 400]);
    expect(await history(chatId, bob)).toEqual([]);
  });

  it('takes replyTo over the socket too', async () => {
    const chatId = await client.createChat(alice, { participants: ['bob'] });
    const parent = await sent(chatId, alice, 'over http');
    const socket = await connect(client, bob);

    const ack = await socket.request({
      action: 'sendMessage',
      chatId,
      clientMessageId: 'ws-reply',
      text: 'over the socket',
      replyTo: parent.messageId,
    });

    expect(ack).toMatchObject({
      type: 'ack',
      data: { message: { replyTo: { messageId: parent.messageId, text: 'over http' } } },
    });
    await socket.close();
  });
});

describe('reactions', () => {
  it('counts one reaction per user and emoji, tells the caller its own, and reaches sockets and pollers as the same envelope', async () => {
    // Prepare
    const chatId = await client.createChat(alice, { participants: ['bob', 'carol'] });
    const message = await sent(chatId, alice, 'react to me');
    const socket = await connect(client, alice);
    await socket.request({ action: 'subscribe', chatId });
    const start = await client.ok<{ nextSince: string }>(
      'GET',
      `/v1/chats/${chatId}/events?after=${message.seq}`,
      alice,
    );

    // Act
    const bobLike = await client.call('PUT', reactionPath(chatId, message.messageId, '👍'), bob);
    const bobAgain = await client.call('PUT', reactionPath(chatId, message.messageId, '👍'), bob);
    const carolLike = await client.call('PUT', reactionPath(chatId, message.messageId, '👍'), carol);
    const carolHeart = await client.call('PUT', reactionPath(chatId, message.messageId, '❤️'), carol);
    const bobTakesBack = await client.call('DELETE', reactionPath(chatId, message.messageId, '👍'), bob);
    await until(() => socket.received.filter((e) => e.type === 'reaction').length >= 4);
    const polled = await client.ok<{ items: { type: string; id: string; data: Record<string, unknown> }[] }>(
      'GET',
      `/v1/chats/${chatId}/events?after=${message.seq}&since=${start.nextSince}`,
      alice,
    );
    const seenByCarol = (await history(chatId, carol)).find((m) => m.seq === message.seq);
    const seenByAlice = (await history(chatId, alice)).find((m) => m.seq === message.seq);

    // Assess
    expect(bobLike.body).toEqual({
      messageId: message.messageId,
      seq: message.seq,
      userId: 'bob',
      emoji: '👍',
      reacted: true,
      reactions: [{ emoji: '👍', count: 1, mine: true }],
      version: 1,
    });
    expect(bobAgain.body).toEqual(bobLike.body);
    expect(carolLike.body).toMatchObject({ reactions: [{ emoji: '👍', count: 2, mine: true }], version: 2 });
    expect(carolHeart.body).toMatchObject({ version: 3 });
    expect(bobTakesBack.body).toMatchObject({
      reacted: false,
      reactions: [
        { emoji: '👍', count: 1, mine: false },
        { emoji: '❤️', count: 1, mine: false },
      ],
      version: 4,
    });
    const pushed = socket.received.filter((e) => e.type === 'reaction');
    expect(pushed.map((e) => (e.data as { version: number }).version)).toEqual([1, 2, 3, 4]);
    expect(pushed.at(-1)?.data).toEqual({
      messageId: message.messageId,
      seq: message.seq,
      userId: 'bob',
      emoji: '👍',
      reacted: false,
      reactions: [
        { emoji: '👍', count: 1 },
        { emoji: '❤️', count: 1 },
      ],
      version: 4,
    });
    // Pollers get the last change of the message: the very envelope the socket got.
    expect(polled.items.filter((e) => e.type === 'reaction')).toEqual([pushed.at(-1)]);
    expect(seenByCarol?.reactions).toEqual([
      { emoji: '👍', count: 1, mine: true },
      { emoji: '❤️', count: 1, mine: true },
    ]);
    expect(seenByAlice?.reactions).toEqual([
      { emoji: '👍', count: 1, mine: false },
      { emoji: '❤️', count: 1, mine: false },
    ]);
    await socket.close();
  });

  it('takes react frames over the socket, acks the change there and pushes it to the other sockets only', async () => {
    // Prepare
    const chatId = await client.createChat(alice, { participants: ['bob'] });
    const message = await sent(chatId, alice, 'hello');
    const [reactor, other] = await Promise.all([connect(client, bob), connect(client, alice)]);
    await Promise.all([reactor, other].map((socket) => socket.request({ action: 'subscribe', chatId })));

    // Act
    const added = await reactor.request({
      action: 'react',
      chatId,
      messageId: message.messageId,
      emoji: '🎉',
    });
    const removed = await reactor.request({
      action: 'react',
      chatId,
      messageId: message.messageId,
      emoji: '🎉',
      remove: true,
    });
    await until(() => other.received.filter((e) => e.type === 'reaction').length >= 2);
    await cloud.idle();

    // Assess
    expect(added).toMatchObject({
      type: 'ack',
      data: { reactions: [{ emoji: '🎉', count: 1, mine: true }] },
    });
    expect(removed).toMatchObject({ type: 'ack', data: { reacted: false, reactions: [], version: 2 } });
    expect(reactor.received.filter((e) => e.type === 'reaction')).toEqual([]);
    await Promise.all([reactor.close(), other.close()]);
  });

  it('refuses bad emoji, strangers, deleted messages and a 21st distinct emoji, changing nothing', async () => {
    // Prepare
    const chatId = await client.createChat(alice, { participants: ['bob'] });
    const message = await sent(chatId, alice, 'popular');
    const gone = await sent(chatId, alice, 'deleted soon');
    await client.ok('DELETE', `/v1/chats/${chatId}/messages/${gone.messageId}`, alice);
    const twenty = [
      '😀',
      '😃',
      '😄',
      '😁',
      '😆',
      '😅',
      '🤣',
      '😂',
      '🙂',
      '🙃',
      '😉',
      '😊',
      '😇',
      '🥰',
      '😍',
      '🤩',
      '😘',
      '😗',
      '😚',
      '😙',
    ];
    for (const emoji of twenty) await client.ok('PUT', reactionPath(chatId, message.messageId, emoji), bob);

    // Act
    const text = await client.call('PUT', reactionPath(chatId, message.messageId, 'ok'), bob);
    const two = await client.call('PUT', reactionPath(chatId, message.messageId, '👍👍'), bob);
    const stranger = await client.call('PUT', reactionPath(chatId, message.messageId, '👍'), carol);
    const deleted = await client.call('PUT', reactionPath(chatId, gone.messageId, '👍'), bob);
    const tooMany = await client.call('PUT', reactionPath(chatId, message.messageId, '👍'), alice);
    const existing = await client.call('PUT', reactionPath(chatId, message.messageId, '😀'), alice);
    const staff = await client.call('PUT', reactionPath(chatId, message.messageId, '😃'), agent);

    // Assess
    expect([text.status, two.status, stranger.status, deleted.status, tooMany.status]).toEqual([
      400, 400, 403, 409, 409,
    ]);
    expect(existing.status).toBe(200);
    expect(staff.status).toBe(200);
    const shown = (await history(chatId, alice)).find((m) => m.seq === message.seq);
    expect(shown?.reactions).toHaveLength(20);
    expect(shown?.reactions?.[0]).toEqual({ emoji: '😀', count: 2, mine: true });
    expect((await history(chatId, alice)).find((m) => m.seq === gone.seq)?.reactions).toBeUndefined();
  });
});
