/**
 * One subscribe frame for several chats (`chats`), end to end over the local cloud: what a reconnecting
 * client with many chats sends instead of a frame per chat.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { createTableContext, type TableContext } from '../../shared/adapters/dynamo/client.ts';
import { api, connect, type Envelope } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let table: TableContext;
let alice: string;
let bob: string;
let carol: string;

beforeAll(async () => {
  // Alice posts 97 messages in a few seconds (the per-identity quota, 100 per 10 s, is quotas.test.ts's).
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, env: { QUOTA_MESSAGES: 'off' } });
  client = api(cloud.urls.http);
  table = createTableContext(cloud.tableName, cloud.urls.dynamodb);
  const tokens = await Promise.all(
    ['alice', 'bob', 'carol'].map((userId) => client.token('demo', userId, 'user')),
  );
  [alice, bob, carol] = tokens as [string, string, string];
});
afterAll(async () => {
  await cloud?.stop();
});

const newChat = async (token: string, participants: string[]): Promise<string> => {
  const { status, body } = await client.call('POST', '/v1/chats', token, { participants });
  expect(status).toBe(201);
  return body.chatId as unknown as string;
};

const post = (chatId: string, id: string, text = id) =>
  client.ok('POST', `/v1/chats/${chatId}/messages`, alice, { clientMessageId: id, type: 'text', text });

/** Test-only read: the chat's subscription items. */
const subscriptionsOf = async (chatId: string): Promise<number> =>
  (
    await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
        ExpressionAttributeValues: { ':pk': `CHAT#${chatId}`, ':sub': 'SUB#' },
        ConsistentRead: true,
      }),
    )
  ).Items?.length ?? 0;

interface AckedChat {
  chatId: string;
  lastSeq: number;
  lastEventSeq: number;
  messages?: { seq: number; text: string }[];
  hasMore?: boolean;
}
const chatsOf = (ack: Envelope): AckedChat[] => ack.data.chats as AckedChat[];

describe('subscribe with several chats in one frame', () => {
  it("acks every chat in the frame's order with its positions and the messages after its own `after`, and pushes all of them from then on", async () => {
    // Prepare: bob holds seq 2 of a 5-message chat, nothing of a 60-message one, and asks no catch-up of a third.
    const [small, busy, quiet] = await Promise.all([1, 2, 3].map(() => newChat(alice, ['bob'])));
    if (!small || !busy || !quiet) throw new Error('chats not created');
    for (let i = 1; i <= 5; i++) await post(small, `s${i}`);
    for (let i = 1; i <= 60; i++) await post(busy, `b${i}`);
    const b = await connect(client, bob);

    // Act
    const ack = await b.request({
      action: 'subscribe',
      chats: [{ chatId: small, after: 2 }, { chatId: busy, after: 0 }, { chatId: quiet }],
    });
    await Promise.all([post(small, 's6'), post(busy, 'b61'), post(quiet, 'q1')]);
    const pushed = await Promise.all(
      [small, busy, quiet].map((chatId) =>
        b.next((e) => e.type === 'message.created' && e.chatId === chatId),
      ),
    );

    // Assess
    expect(ack).toMatchObject({ type: 'ack', tenantId: 'demo', data: { subscribed: true } });
    expect(ack).not.toHaveProperty('chatId');
    const [first, second, third] = chatsOf(ack);
    expect(first).toMatchObject({ chatId: small, lastSeq: 5, lastEventSeq: 0, hasMore: false });
    expect(first?.messages?.map((m) => m.text)).toEqual(['s3', 's4', 's5']);
    expect(second).toMatchObject({ chatId: busy, lastSeq: 60, hasMore: true });
    expect(second?.messages?.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(third).toEqual({ chatId: quiet, lastSeq: 0, lastEventSeq: 0 });
    expect(pushed.map((e) => e.seq)).toEqual([6, 61, 1]);
    await b.close();
  });

  it('shares one byte budget among the chats of a frame: a later chat gets what room is left and hasMore', async () => {
    // Prepare: two chats of 16 messages of 6,000 characters each (about 96 KB per chat, the ack's budget).
    const [one, two] = await Promise.all([1, 2].map(() => newChat(alice, ['bob'])));
    if (!one || !two) throw new Error('chats not created');
    const text = (n: number) => `${n}`.padEnd(6000, '.');
    for (let i = 1; i <= 16; i++)
      await Promise.all([post(one, `o${i}`, text(i)), post(two, `t${i}`, text(i))]);
    const b = await connect(client, bob);

    // Act
    const ack = await b.request({
      action: 'subscribe',
      chats: [
        { chatId: one, after: 0 },
        { chatId: two, after: 0 },
      ],
    });

    // Assess: the two chats' messages together stay within the budget; the first chat comes first.
    const [first, second] = chatsOf(ack);
    const bytes = (messages: unknown[] = []) =>
      messages.reduce<number>((sum, m) => sum + Buffer.byteLength(JSON.stringify(m)) + 1, 0);
    expect(first?.messages?.length).toBeGreaterThan(second?.messages?.length ?? 0);
    expect(bytes(first?.messages) + bytes(second?.messages)).toBeLessThanOrEqual(96 * 1024);
    expect(second).toMatchObject({ lastSeq: 16, hasMore: true });
    expect(Buffer.byteLength(JSON.stringify(ack))).toBeLessThan(128 * 1024);
    await b.close();
  });

  it("refuses the whole frame when one of its chats is not the caller's, names that chat, and subscribes none", async () => {
    // Prepare: bob takes part in the first chat, not in carol's.
    const mine = await newChat(alice, ['bob']);
    const theirs = await newChat(carol, []);
    const b = await connect(client, bob);

    // Act
    const forbidden = await b.request({
      action: 'subscribe',
      chats: [{ chatId: mine }, { chatId: theirs }],
    });
    const unknown = await b.request({
      action: 'subscribe',
      chats: [{ chatId: mine }, { chatId: 'ch_doesnotexist00000000' }],
    });

    // Assess
    expect(forbidden).toMatchObject({ type: 'error', data: { code: 'forbidden' } });
    expect(String(forbidden.data.message)).toContain(theirs);
    expect(unknown).toMatchObject({ type: 'error', data: { code: 'not_found' } });
    expect(String(unknown.data.message)).toContain('ch_doesnotexist00000000');
    expect(await subscriptionsOf(mine)).toBe(0);
    await b.close();
  });

  it('refuses with 400 a frame that names its chats both ways, none, one twice or more than 25', async () => {
    // Prepare
    const chatId = await newChat(alice, ['bob']);
    const b = await connect(client, bob);
    const frames = [
      { action: 'subscribe', chatId, chats: [{ chatId }] },
      { action: 'subscribe', after: 1, chats: [{ chatId }] },
      { action: 'subscribe' },
      { action: 'subscribe', chats: [] },
      { action: 'subscribe', chats: [{ chatId }, { chatId, after: 3 }] },
      { action: 'subscribe', chats: Array.from({ length: 26 }, () => ({ chatId })) },
      { action: 'subscribe', chats: [{ chatId, extra: true }] },
    ];

    // Act
    const replies = [];
    for (const frame of frames) replies.push(await b.request(frame));

    // Assess
    for (const reply of replies)
      expect(reply).toMatchObject({ type: 'error', data: { code: 'invalid_request' } });
    expect(await subscriptionsOf(chatId)).toBe(0);
    await b.close();
  });
});
