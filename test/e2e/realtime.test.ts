/**
 * End to end through the local cloud: real `ws` clients, the emulated API Gateway, the real handlers,
 * DynamoDB Local and its stream feeding the real fan-out handler.
 */
import { GetCommand, PutCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { createTableContext, type TableContext } from '../../shared/adapters/dynamo/client.ts';
import { api, connect, type Envelope, TestSocket, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let table: TableContext;
let alice: string;
let bob: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  table = createTableContext(cloud.tableName, cloud.urls.dynamodb);
  alice = await client.token('demo', 'alice', 'user');
  bob = await client.token('demo', 'bob', 'user');
});
afterAll(async () => {
  await cloud?.stop();
});

/** Test-only Scan: how many connection items the table holds. */
const connectionItems = async (): Promise<number> =>
  (
    await table.doc.send(
      new ScanCommand({
        TableName: table.tableName,
        FilterExpression: 'entity = :e',
        ExpressionAttributeValues: { ':e': 'connection' },
        ConsistentRead: true,
      }),
    )
  ).Items?.length ?? 0;

const newChat = async () => {
  const { status, body } = await client.call('POST', '/v1/chats', alice, { participants: ['bob'] });
  expect(status).toBe(201);
  return body.chatId as unknown as string;
};

describe('realtime delivery over the local cloud', () => {
  it('delivers every message exactly once to both participants, seqs 1..20 with none missing: pushes for the other side, acks for their own', async () => {
    // Prepare
    const chatId = await newChat();
    const [a, b] = await Promise.all([connect(client, alice), connect(client, bob)]);
    await Promise.all([
      a.request({ action: 'subscribe', chatId }),
      b.request({ action: 'subscribe', chatId }),
    ]);

    // Act: both send, interleaved, over the socket (a socket's frames are handled one after the other,
    // so the tenth reply waits for nine sends: the wait allows for a busy machine)
    const sends: Promise<Envelope>[][] = [[], []];
    const patience = 30_000;
    for (let i = 0; i < 10; i++) {
      sends[0]?.push(
        a.request(
          { action: 'sendMessage', chatId, clientMessageId: `a${i}`, text: `from alice ${i}` },
          patience,
        ),
      );
      sends[1]?.push(
        b.request(
          { action: 'sendMessage', chatId, clientMessageId: `b${i}`, text: `from bob ${i}` },
          patience,
        ),
      );
    }
    const acks = await Promise.all((sends as Promise<Envelope>[][]).map((list) => Promise.all(list)));
    await until(() => a.messages(chatId).length >= 10 && b.messages(chatId).length >= 10, patience);
    await cloud.idle();

    // Assess
    expect(acks.flat().every((ack) => ack.type === 'ack')).toBe(true);
    for (const [index, socket] of [a, b].entries()) {
      const own = (acks[index] ?? []).map((ack) => (ack.data.message as { seq: number }).seq);
      const pushed = socket.messages(chatId);
      // No push of a socket's own message (its ack carried it), each of the other side's exactly once.
      expect(pushed.map((e) => e.data.clientMessageId).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `${index === 0 ? 'b' : 'a'}${i}`).sort(),
      );
      // Concurrent sends may reach the wire out of seq order (docs/protocol.md, "Delivery"); clients order by seq.
      expect([...own, ...pushed.map((e) => e.seq ?? 0)].sort((x, y) => x - y)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    }
    await Promise.all([a.close(), b.close()]);
  }, 60_000);

  it("pushes a message to the sender's other socket, but not back to the socket it was sent over", async () => {
    // Prepare: alice on two sockets (two tabs), bob on one
    const chatId = await newChat();
    const [sending, otherTab, b] = await Promise.all([
      connect(client, alice),
      connect(client, alice),
      connect(client, bob),
    ]);
    await Promise.all([sending, otherTab, b].map((s) => s.request({ action: 'subscribe', chatId })));

    // Act: alice sends over one socket, then bob sends (so every push of alice's message has happened
    // once bob's has arrived everywhere: the fan-out pushes a chat's messages in seq order)
    const ack = await sending.request({
      action: 'sendMessage',
      chatId,
      clientMessageId: 'two-tabs',
      text: 'hi',
    });
    await b.request({ action: 'sendMessage', chatId, clientMessageId: 'reply', text: 'hello' });
    await until(() => sending.messages(chatId).length >= 1 && otherTab.messages(chatId).length >= 2, 30_000);
    await cloud.idle();

    // Assess
    expect(ack.type).toBe('ack');
    expect((ack.data.message as { seq: number }).seq).toBe(1);
    expect(sending.messages(chatId).map((e) => e.data.clientMessageId)).toEqual(['reply']);
    expect(otherTab.messages(chatId).map((e) => e.data.clientMessageId)).toEqual(['two-tabs', 'reply']);
    expect(b.messages(chatId).map((e) => e.data.clientMessageId)).toEqual(['two-tabs']);
    await Promise.all([sending.close(), otherTab.close(), b.close()]);
  }, 60_000);

  it('lets a socket closed mid-conversation catch up with after= on reconnect', async () => {
    // Prepare
    const chatId = await newChat();
    const b = await connect(client, bob);
    await b.request({ action: 'subscribe', chatId });
    for (let i = 1; i <= 3; i++) {
      await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
        clientMessageId: `m${i}`,
        type: 'text',
        text: `${i}`,
      });
    }
    await until(() => b.messages(chatId).length === 3);
    const lastSeen = b.messages(chatId).at(-1)?.seq ?? 0;

    // Act: bob drops, alice keeps talking, bob comes back with a new ticket
    await b.close();
    for (let i = 4; i <= 7; i++) {
      await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
        clientMessageId: `m${i}`,
        type: 'text',
        text: `${i}`,
      });
    }
    const again = await connect(client, bob);
    const ack = await again.request({ action: 'subscribe', chatId });
    const missed = await client.call('GET', `/v1/chats/${chatId}/messages?after=${lastSeen}`, bob);

    // Assess
    expect(ack.data.lastSeq).toBe(7);
    const items = missed.body.items as unknown as { seq: number; text: string }[];
    expect(items.map((m) => m.seq)).toEqual([4, 5, 6, 7]);
    expect(items.map((m) => m.text)).toEqual(['4', '5', '6', '7']);
    await again.close();
  });

  it('carries what a reconnecting socket missed in its subscribe ack when it names the seq it holds', async () => {
    // Prepare: bob holds seq 1 and 2; a 60-message chat (over the ack's 50) for the second part.
    const chatId = await newChat();
    const send = (id: string, chat = chatId) =>
      client.ok('POST', `/v1/chats/${chat}/messages`, alice, { clientMessageId: id, type: 'text', text: id });
    for (let i = 1; i <= 5; i++) await send(`r${i}`);
    const busy = await newChat();
    for (let i = 1; i <= 60; i++) await send(`b${i}`, busy);
    const b = await connect(client, bob);

    // Act
    const caughtUp = await b.request({ action: 'subscribe', chatId, after: 2 });
    const current = await b.request({ action: 'subscribe', chatId, after: 5 });
    const plain = await b.request({ action: 'subscribe', chatId });
    const partial = await b.request({ action: 'subscribe', chatId: busy, after: 0 });
    const refused = await b.request({ action: 'subscribe', chatId, after: -1 });

    // Assess
    const seqs = (ack: Envelope) => (ack.data.messages as { seq: number }[]).map((m) => m.seq);
    expect(caughtUp.data).toMatchObject({ subscribed: true, lastSeq: 5, hasMore: false });
    expect(seqs(caughtUp)).toEqual([3, 4, 5]);
    expect((caughtUp.data.messages as { text: string }[]).map((m) => m.text)).toEqual(['r3', 'r4', 'r5']);
    expect(current.data).toMatchObject({ lastSeq: 5, messages: [], hasMore: false });
    expect(plain.data).not.toHaveProperty('messages');
    expect(partial.data).toMatchObject({ lastSeq: 60, hasMore: true });
    expect(seqs(partial)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(refused).toMatchObject({ type: 'error', data: { code: 'invalid_request' } });
    await b.close();
  });

  it('acks a subscribe with lastEventSeq, so chat events missed while away are caught up with afterEvent=', async () => {
    // Prepare: bob subscribes to a chat with one message and no event yet.
    const chatId = await newChat();
    const sent = await client.ok<{ messageId: string }>('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'e1',
      type: 'text',
      text: 'first',
    });
    const b = await connect(client, bob);
    const first = await b.request({ action: 'subscribe', chatId });
    await b.close();

    // Act: while bob is away alice edits the message and closes the chat; bob subscribes again.
    await client.ok('PATCH', `/v1/chats/${chatId}/messages/${sent.messageId}`, alice, { text: 'edited' });
    await client.ok('PATCH', `/v1/chats/${chatId}`, alice, { status: 'closed' });
    const again = await connect(client, bob);
    const ack = await again.request({ action: 'subscribe', chatId });
    const missed = await client.ok<{ items: { type: string; eventSeq?: number }[]; nextAfterEvent: number }>(
      'GET',
      `/v1/chats/${chatId}/events?after=1&afterEvent=${String(first.data.lastEventSeq)}&waitSeconds=0`,
      bob,
    );

    // Assess
    expect(first.data).toMatchObject({ subscribed: true, lastSeq: 1, lastEventSeq: 0 });
    expect(ack.data).toMatchObject({ subscribed: true, lastSeq: 1, lastEventSeq: 2 });
    // The event log only (the poll also returns the last seconds' presence changes).
    const logged = missed.items.filter((e) => e.eventSeq !== undefined);
    expect(logged.map((e) => [e.type, e.eventSeq])).toEqual([
      ['message.updated', 1],
      ['chat.closed', 2],
    ]);
    expect(missed.nextAfterEvent).toBe(ack.data.lastEventSeq);
    await again.close();
  });

  it('answers a bad frame with an error envelope and changes nothing', async () => {
    // Prepare
    const chatId = await newChat();
    const a = await connect(client, alice);
    await a.request({ action: 'subscribe', chatId });

    // Act
    const emptyText = await a.request({ action: 'sendMessage', chatId, clientMessageId: 'x', text: '   ' });
    const unknownAction = await a.request({ action: 'launchRockets' });
    const extraField = await a.request({
      action: 'sendMessage',
      chatId,
      clientMessageId: 'y',
      text: 'hi',
      admin: true,
    });
    a.ws.send('this is not json');
    const notJson = await a.next((e) => e.type === 'error' && e.requestId === undefined);

    // Assess
    for (const reply of [emptyText, unknownAction, extraField, notJson]) {
      expect(reply.type).toBe('error');
      expect(reply.data.code).toBe('invalid_request');
    }
    const chat = await client.call('GET', `/v1/chats/${chatId}`, alice);
    expect(chat.body.lastSeq).toBe(0);
    expect(a.messages(chatId)).toHaveLength(0);
    await a.close();
  });

  it('refuses a reused ticket and a forged ticket at $connect and stores no connection', async () => {
    // Prepare
    const { ticket, url } = await client.ticket(alice);
    const first = await TestSocket.open(`${url}?ticket=${encodeURIComponent(ticket)}`);
    await first.next((e) => e.type === 'connection.ready');
    const before = await connectionItems();

    // Act
    const attempts = await Promise.allSettled([
      TestSocket.open(`${url}?ticket=${encodeURIComponent(ticket)}`),
      TestSocket.open(`${url}?ticket=${'A'.repeat(43)}`),
      TestSocket.open(url),
      TestSocket.open(`${url}?ticket=${alice}`),
    ]);

    // Assess
    for (const attempt of attempts) {
      expect(attempt.status).toBe('rejected');
      if (attempt.status === 'rejected') expect(String(attempt.reason)).toContain('upgrade refused: 401');
    }
    expect(await connectionItems()).toBe(before);
    await first.close();
  });

  it('does not accept a ticket as a bearer token', async () => {
    const { ticket } = await client.ticket(alice);

    const response = await client.call('GET', '/v1/chats', ticket);

    expect(response.status).toBe(401);
  });

  it('removes a stale (410) connection and its subscription on the first failed push', async () => {
    // Prepare: a subscription left behind by a connection that API Gateway no longer knows
    const chatId = await newChat();
    const ghost = 'GhostConn0000=';
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: `CHAT#${chatId}`,
          sk: `SUB#${ghost}`,
          entity: 'subscription',
          connectionId: ghost,
          chatId,
        },
      }),
    );
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          pk: `CONN#${ghost}`,
          sk: `SUB#${chatId}`,
          entity: 'subscription',
          connectionId: ghost,
          chatId,
        },
      }),
    );

    // Act
    await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'g1',
      type: 'text',
      text: 'hi',
    });
    await cloud.idle();

    // Assess
    const left = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: { pk: `CHAT#${chatId}`, sk: `SUB#${ghost}` } }),
    );
    expect(left.Item).toBeUndefined();
  });

  it('forgets a connection and its subscriptions on $disconnect', async () => {
    const chatId = await newChat();
    const a = await connect(client, alice);
    await a.request({ action: 'subscribe', chatId });
    const subscribers = async () =>
      (
        await table.doc.send(
          new QueryCommand({
            TableName: table.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
            ExpressionAttributeValues: { ':pk': `CHAT#${chatId}`, ':sub': 'SUB#' },
          }),
        )
      ).Items ?? [];
    expect(await subscribers()).toHaveLength(1);

    await a.close();

    await until(async () => (await subscribers()).length === 0);
  });

  it('closes a socket that sends a frame over 128 KB with code 1009', async () => {
    const a = await connect(client, alice);
    const code = new Promise<number>((resolve) => a.ws.once('close', (c) => resolve(c)));

    a.ws.send('x'.repeat(128 * 1024 + 1));

    expect(await code).toBe(1009);
    expect(a.ws.readyState).toBe(WebSocket.CLOSED);
  });
});
