/**
 * Membership and deletion through the local cloud: a removed participant stops receiving even when a
 * subscription of theirs outlives the removal; a deleted message leaves nothing of its content for a
 * participant who joins later (events, history) and its attachment's file is gone from the bucket.
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { createTableContext, type TableContext } from '../../shared/adapters/dynamo/client.ts';
import { api, connect, until } from '../support/clients.ts';
import { png } from '../support/png.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let table: TableContext;
let alice: string;
let bob: string;
let carol: string;
let agent: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  table = createTableContext(cloud.tableName, cloud.urls.dynamodb);
  [alice, bob, carol, agent] = await Promise.all([
    client.token('demo', 'alice', 'user'),
    client.token('demo', 'bob', 'user'),
    client.token('demo', 'carol', 'user'),
    client.token('demo', 'agent-1', 'agent'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

const subscriptionItem = async (chatId: string, connectionId: string) =>
  (
    await table.doc.send(
      new GetCommand({
        TableName: table.tableName,
        Key: { pk: `CHAT#${chatId}`, sk: `SUB#${connectionId}` },
        ConsistentRead: true,
      }),
    )
  ).Item;

describe('removed participants', () => {
  it('closes the removed user’s subscriptions, tells the user, and neither the fan-out, typing nor presence reaches one left behind', async () => {
    // Prepare: bob and an agent (not a participant) subscribed to alice's chat with bob
    const chatId = await client.createChat(alice, { participants: ['bob'] });
    const [bobSocket, agentSocket] = await Promise.all([connect(client, bob), connect(client, agent)]);
    await bobSocket.request({ action: 'subscribe', chatId });
    await agentSocket.request({ action: 'subscribe', chatId });
    await client.ok('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'before',
      type: 'text',
      text: 'before',
    });
    await until(() => bobSocket.messages(chatId).length === 1);
    const bobConnection = await findConnection(chatId, 'bob');
    const leftover = await subscriptionItem(chatId, bobConnection);

    // Act: bob is removed; then his subscription is written back, as a failed or raced cleanup leaves it
    const removed = await client.call('DELETE', `/v1/chats/${chatId}/participants/bob`, alice);
    const afterRemoval = await subscriptionItem(chatId, bobConnection);
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: leftover }));
    await client.ok('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'after',
      type: 'text',
      text: 'not for bob',
    });
    await client.ok('POST', `/v1/chats/${chatId}/typing`, alice, { isTyping: true });
    const aliceSocket = await connect(client, alice); // alice's first socket: she comes online
    await until(() => agentSocket.messages(chatId).length === 2);
    await until(() => agentSocket.received.some((e) => e.type === 'typing' && e.chatId === chatId));
    await until(() => agentSocket.received.some((e) => e.type === 'presence' && e.chatId === chatId));
    await cloud.idle();

    // Assess: bob's socket got the chat.updated that removed him (on his own socket, not as a subscriber)
    expect(removed.status).toBe(200);
    const updates = bobSocket.received.filter((e) => e.type === 'chat.updated' && e.chatId === chatId);
    expect(updates).toHaveLength(1);
    expect(
      (updates[0]?.data as { participants?: { userId: string }[] }).participants?.map((p) => p.userId),
    ).not.toContain('bob');
    expect(bobSocket.received.filter((e) => e.type === 'typing' || e.type === 'presence')).toEqual([]);
    expect(afterRemoval).toBeUndefined();
    expect(bobSocket.messages(chatId).map((e) => e.data.text)).toEqual(['before']);
    expect(JSON.stringify(bobSocket.received)).not.toContain('not for bob');
    await Promise.all([bobSocket.close(), agentSocket.close(), aliceSocket.close()]);
  });

  it('refuses the removed user’s subscribe and history at once', async () => {
    // Prepare
    const chatId = await client.createChat(alice, { participants: ['bob'] });
    const socket = await connect(client, bob);

    // Act
    await client.ok('DELETE', `/v1/chats/${chatId}/participants/bob`, alice);
    const subscribed = await socket.request({ action: 'subscribe', chatId });
    const history = await client.call('GET', `/v1/chats/${chatId}/messages`, bob);

    // Assess
    expect(subscribed.type).toBe('error');
    expect(subscribed.data).toMatchObject({ code: 'forbidden' });
    expect(history.status).toBe(403);
    await socket.close();
  });
});

/** The connection id of `userId`'s subscription to the chat. */
const findConnection = async (chatId: string, userId: string): Promise<string> => {
  const result = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sub)',
      ExpressionAttributeValues: { ':pk': `CHAT#${chatId}`, ':sub': 'SUB#' },
      ConsistentRead: true,
    }),
  );
  const found = (result.Items ?? []).find((item) => item.userId === userId);
  if (!found) throw new Error(`no subscription of ${userId}`);
  return found.connectionId as string;
};

describe('deleted messages', () => {
  it('leaves neither text nor attachment for a later participant, and deletes the file', async () => {
    // Prepare: a file message, its caption edited twice, a download link taken while it exists
    const chatId = await client.createChat(alice, { participants: ['bob'] });
    const image = png(2, 2);
    const requested = await client.ok<{
      attachmentId: string;
      upload: { url: string; fields: Record<string, string> };
    }>('POST', `/v1/chats/${chatId}/attachments`, alice, {
      fileName: 'private.png',
      contentType: 'image/png',
      size: image.length,
    });
    const form = new FormData();
    for (const [name, value] of Object.entries(requested.upload.fields)) form.append(name, value);
    form.append('file', new Blob([new Uint8Array(image)], { type: 'image/png' }), 'private.png');
    expect((await fetch(requested.upload.url, { method: 'POST', body: form })).status).toBeLessThan(300);
    await cloud.idle();
    const { attachmentId } = requested;
    const sent = await client.ok<{ messageId: string }>('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'file',
      type: 'file',
      attachmentId,
      text: 'secret caption one',
    });
    const path = `/v1/chats/${chatId}/messages/${sent.messageId}`;
    await client.ok('PATCH', path, alice, { text: 'secret caption two' });
    await client.ok('PATCH', path, alice, { text: 'secret caption three' });
    const link = await client.ok<{ url: string }>('GET', `/v1/attachments/${attachmentId}`, bob);
    const before = await fetch(link.url);
    await before.arrayBuffer();

    // Act: the message is deleted, then carol joins and reads everything from the start
    const deleted = await client.call('DELETE', path, alice);
    await client.ok('POST', `/v1/chats/${chatId}/participants`, alice, { userId: 'carol' });
    const events = await client.ok<{ items: unknown[] }>(
      'GET',
      `/v1/chats/${chatId}/events?after=0&afterEvent=0&limit=100`,
      carol,
    );
    const history = await client.ok<{ items: unknown[] }>('GET', `/v1/chats/${chatId}/messages`, carol);
    const download = await client.call('GET', `/v1/attachments/${attachmentId}`, carol);
    const after = await fetch(link.url);
    await after.arrayBuffer();

    // Assess
    expect(before.status).toBe(200);
    expect(deleted.status).toBe(200);
    const served = JSON.stringify([events.items, history.items]);
    expect(events.items.filter((e) => (e as { type: string }).type === 'message.updated')).toHaveLength(2);
    expect(served).not.toContain('secret caption');
    expect(served).not.toContain(attachmentId);
    expect(download.status).toBe(404);
    expect(after.status).toBe(404);
  });
});
