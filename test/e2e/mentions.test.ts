/** Mentions through the local cloud: validation, `mention` envelopes on every socket and in polls, unread mentions. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let alice: string;
let bob: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  [alice, bob] = await Promise.all([
    client.token('demo', 'mention-alice', 'user'),
    client.token('demo', 'mention-bob', 'user'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

let counter = 0;
const send = (chatId: string, token: string, text: string, mentions?: unknown) =>
  client.call('POST', `/v1/chats/${chatId}/messages`, token, {
    clientMessageId: `mention-${++counter}`,
    type: 'text',
    text,
    ...(mentions === undefined ? {} : { mentions }),
  });
const unreadOf = async (token: string, chatId: string) => {
  const body = await client.ok<{
    mentions: number;
    chats: { chatId: string; unread: number; mentions: number }[];
  }>('GET', '/v1/unread', token);
  return { total: body.mentions, chat: body.chats.find((row) => row.chatId === chatId) };
};

describe('mentions', () => {
  it('reaches every socket of the mentioned user, muted or not subscribed, and its polls, as the same envelope', async () => {
    // Prepare: bob muted the chat; one of his sockets is subscribed to it, the other is not
    const chatId = await client.createChat(alice, { participants: ['mention-bob'] });
    await client.ok('PATCH', `/v1/chats/${chatId}/preferences`, bob, { muted: true });
    const [subscribed, elsewhere, sender] = await Promise.all([
      connect(client, bob),
      connect(client, bob),
      connect(client, alice),
    ]);
    await subscribed.request({ action: 'subscribe', chatId });
    await sender.request({ action: 'subscribe', chatId });

    // Act
    const sent = await send(chatId, alice, 'hi @mention-bob, and me', [
      'mention-bob',
      'mention-alice',
      'mention-bob',
    ]);
    await until(() => elsewhere.received.some((e) => e.type === 'mention'));
    await until(() => subscribed.received.some((e) => e.type === 'mention'));
    await cloud.idle();
    const polled = await client.ok<{ items: { type: string; id: string }[] }>(
      'GET',
      `/v1/chats/${chatId}/events?after=0`,
      bob,
    );
    const polledBySender = await client.ok<{ items: { type: string }[] }>(
      'GET',
      `/v1/chats/${chatId}/events?after=0`,
      alice,
    );

    // Assess
    expect(sent.status).toBe(201);
    expect(sent.body.mentions).toEqual(['mention-bob', 'mention-alice']);
    const pushed = elsewhere.received.find((e) => e.type === 'mention');
    expect(pushed).toMatchObject({
      id: `${chatId}:${sent.body.seq}:mention:mention-bob`,
      chatId,
      seq: sent.body.seq,
      data: { messageId: sent.body.messageId, mentions: ['mention-bob', 'mention-alice'] },
    });
    expect(subscribed.received.filter((e) => e.type === 'mention')).toEqual([pushed]);
    expect(polled.items.filter((e) => e.type === 'mention')).toEqual([pushed]);
    // The sender mentioning itself gets nothing more than its message.
    expect(sender.received.filter((e) => e.type === 'mention')).toEqual([]);
    expect(polledBySender.items.filter((e) => e.type === 'mention')).toEqual([]);
    await Promise.all([subscribed.close(), elsewhere.close(), sender.close()]);
  });

  it('counts unread mentions per chat until they are read', async () => {
    const chatId = await client.createChat(alice, { participants: ['mention-bob'] });
    await send(chatId, alice, 'first @mention-bob', ['mention-bob']);
    await send(chatId, alice, 'no mention');
    const third = await send(chatId, alice, 'third @mention-bob', ['mention-bob']);
    await cloud.idle();

    const before = await unreadOf(bob, chatId);
    await client.ok('POST', `/v1/chats/${chatId}/read`, bob, { seq: 2 });
    const partly = await unreadOf(bob, chatId);
    await client.ok('POST', `/v1/chats/${chatId}/read`, bob, { seq: third.body.seq });
    const after = await unreadOf(bob, chatId);

    expect(before.chat).toEqual({ chatId, unread: 3, mentions: 2 });
    expect(partly.chat).toEqual({ chatId, unread: 1, mentions: 1 });
    expect(after.chat).toBeUndefined();
    // The sender's own unread position is its own business: it is mentioned in none of them.
    expect((await unreadOf(alice, chatId)).chat?.mentions ?? 0).toBe(0);
  });

  it('refuses mentions of non-participants, too many mentions and malformed ids with 400, storing nothing', async () => {
    const chatId = await client.createChat(alice, { participants: ['mention-bob'] });

    const stranger = await send(chatId, alice, 'x', ['mention-carol']);
    const tooMany = await send(
      chatId,
      alice,
      'x',
      Array.from({ length: 21 }, (_, i) => `user-${i}`),
    );
    const malformed = await send(chatId, alice, 'x', ['bad id!']);
    const notAList = await send(chatId, alice, 'x', 'mention-bob');

    expect([stranger.status, tooMany.status, malformed.status, notAList.status]).toEqual([
      400, 400, 400, 400,
    ]);
    expect(stranger.body).toMatchObject({ error: { code: 'invalid_request' } });
    expect(JSON.stringify(stranger.body)).toContain('mention-carol');
    const history = await client.ok<{ items: unknown[] }>('GET', `/v1/chats/${chatId}/messages`, alice);
    expect(history.items).toEqual([]);
  });
});
