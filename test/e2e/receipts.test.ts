/** Read receipts and unread counts through the local cloud. */
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
  alice = await client.token('demo', 'alice', 'user');
  bob = await client.token('demo', 'bob', 'user');
});
afterAll(async () => {
  await cloud?.stop();
});

const chatWith = async (messages: number) => {
  const chatId = (await client.call('POST', '/v1/chats', alice, { participants: ['bob'] })).body
    .chatId as string;
  for (let i = 1; i <= messages; i++) {
    await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: `m${i}`,
      type: 'text',
      text: `${i}`,
    });
  }
  return chatId;
};

describe('read receipts', () => {
  it('moves the read position forward, broadcasts receipt to sockets and pollers, and never moves back', async () => {
    // Prepare
    const chatId = await chatWith(5);
    const socket = await connect(client, alice);
    await socket.request({ action: 'subscribe', chatId });

    // Act
    const read = await client.call('POST', `/v1/chats/${chatId}/read`, bob, { seq: 3 });
    const older = await client.call('POST', `/v1/chats/${chatId}/read`, bob, { seq: 2 });
    await until(() => socket.received.some((e) => e.type === 'receipt'));
    const polled = await client.call('GET', `/v1/chats/${chatId}/events?after=5&afterEvent=0`, alice);
    const chat = await client.call('GET', `/v1/chats/${chatId}`, bob);

    // Assess
    expect(read.body).toEqual({ lastReadSeq: 3, unread: 2 });
    expect(older.body).toEqual({ lastReadSeq: 3, unread: 2 });
    const pushed = socket.received.filter((e) => e.type === 'receipt');
    expect(pushed).toEqual([expect.objectContaining({ chatId, seq: 3, data: { userId: 'bob', seq: 3 } })]);
    expect(polled.body.items).toEqual(pushed);
    expect(chat.body).toMatchObject({ lastReadSeq: 3, unread: 2 });
    await socket.close();
  });

  it('accepts markRead over the socket with an ack carrying the unread count', async () => {
    const chatId = await chatWith(2);
    const socket = await connect(client, bob);

    const ack = await socket.request({ action: 'markRead', chatId, seq: 2 });

    expect(ack).toMatchObject({ type: 'ack', data: { lastReadSeq: 2, unread: 0 } });
    await socket.close();
  });

  it('refuses a seq beyond the chat’s last message and a receipt from a non-participant', async () => {
    const chatId = await chatWith(1);
    const carol = await client.token('demo', 'carol', 'user');
    const agent = await client.token('demo', 'agent-5', 'agent');

    const beyond = await client.call('POST', `/v1/chats/${chatId}/read`, bob, { seq: 9 });
    const stranger = await client.call('POST', `/v1/chats/${chatId}/read`, carol, { seq: 1 });
    const staff = await client.call('POST', `/v1/chats/${chatId}/read`, agent, { seq: 1 });

    expect([beyond.status, stranger.status, staff.status]).toEqual([400, 403, 403]);
  });
});

describe('unread counts', () => {
  it('totals the caller’s unread messages per chat', async () => {
    const dave = await client.token('demo', 'dave', 'user');
    const first = (await client.call('POST', '/v1/chats', alice, { participants: ['dave'] })).body
      .chatId as string;
    const second = (await client.call('POST', '/v1/chats', alice, { participants: ['dave'] })).body
      .chatId as string;
    for (const [chatId, count] of [
      [first, 3],
      [second, 2],
    ] as const) {
      for (let i = 0; i < count; i++) {
        await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
          clientMessageId: `u${i}`,
          type: 'text',
          text: 'x',
        });
      }
    }
    await client.call('POST', `/v1/chats/${second}/read`, dave, { seq: 1 });

    const unread = await client.call('GET', '/v1/unread', dave);

    const list = await client.call('GET', '/v1/chats?limit=10', dave);
    expect(
      Object.fromEntries(
        (list.body.items as { chatId: string; unread: number }[]).map((c) => [c.chatId, c.unread]),
      ),
    ).toEqual({ [first]: 3, [second]: 1 });
    expect(unread.body.total).toBe(4);
    expect(unread.body.chats).toEqual(
      expect.arrayContaining([
        { chatId: first, unread: 3, mentions: 0 },
        { chatId: second, unread: 1, mentions: 0 },
      ]),
    );
  });

  it('gives each chat of a filtered list the caller’s unread count, and agents’ tenant lists none', async () => {
    // Prepare: erin has two chats of project p-7 (one partly read) and one of another project
    const erin = await client.token('demo', 'erin', 'user');
    const agent = await client.token('demo', 'ag-1', 'agent');
    const chatOf = async (project: string, messages: number) => {
      const chatId = (
        await client.call('POST', '/v1/chats', alice, {
          participants: ['erin'],
          metadata: { project_id: project },
        })
      ).body.chatId as string;
      for (let i = 0; i < messages; i++)
        await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
          clientMessageId: `f${i}`,
          type: 'text',
          text: 'x',
        });
      return chatId;
    };
    const read = await chatOf('p-7', 4);
    const unreadAll = await chatOf('p-7', 2);
    await chatOf('p-8', 5);
    await client.call('POST', `/v1/chats/${read}/read`, erin, { seq: 3 });

    // Act
    const filtered = await client.call('GET', '/v1/chats?metadata__project_id=p-7&status=open', erin);
    const staff = await client.call('GET', '/v1/chats?metadata__project_id=p-7', agent);

    // Assess
    expect(filtered.status).toBe(200);
    expect(
      (filtered.body.items as { chatId: string; unread: number; lastReadSeq: number }[]).map((c) => [
        c.chatId,
        c.unread,
        c.lastReadSeq,
      ]),
    ).toEqual([
      [unreadAll, 2, 0],
      [read, 1, 3],
    ]);
    const staffItems = staff.body.items as { chatId: string; unread?: number }[];
    expect(staffItems.map((c) => c.chatId)).toEqual(expect.arrayContaining([read, unreadAll]));
    expect(staffItems.every((c) => c.unread === undefined)).toBe(true);
  });
});
