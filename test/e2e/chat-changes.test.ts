/**
 * Participants, preferences, message edits and soft deletes through the local cloud: each change is
 * broadcast through the chat event log (socket and polling alike) and audited.
 */
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
    client.token('demo', 'agent-3', 'agent'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

const newChat = () => client.createChat(alice, { participants: ['bob'] });
const send = async (token: string, chatId: string, clientMessageId: string, text: string) =>
  (await client.call('POST', `/v1/chats/${chatId}/messages`, token, { clientMessageId, type: 'text', text }))
    .body as {
    messageId: string;
    seq: number;
  };
const members = (chat: Record<string, unknown>) =>
  (chat.participants as { userId: string }[]).map((p) => p.userId).sort();

describe('participants', () => {
  it('lets the creator add a participant, who can then read the chat; subscribers get chat.updated with the list', async () => {
    // Prepare
    const chatId = await newChat();
    const socket = await connect(client, bob);
    await socket.request({ action: 'subscribe', chatId });
    const before = await client.call('GET', `/v1/chats/${chatId}`, carol);

    // Act
    const added = await client.call('POST', `/v1/chats/${chatId}/participants`, alice, { userId: 'carol' });
    await until(() => socket.received.some((e) => e.type === 'chat.updated'));
    const after = await client.call('GET', `/v1/chats/${chatId}`, carol);

    // Assess
    expect(before.status).toBe(403);
    expect(added.status).toBe(200);
    expect(members(added.body)).toEqual(['alice', 'bob', 'carol']);
    expect(after.status).toBe(200);
    expect(members(socket.received.find((e) => e.type === 'chat.updated')?.data ?? {})).toEqual([
      'alice',
      'bob',
      'carol',
    ]);
    await socket.close();
  });

  it('refuses additions by a non-creator participant and removals of non-participants', async () => {
    const chatId = await newChat();

    const byBob = await client.call('POST', `/v1/chats/${chatId}/participants`, bob, { userId: 'carol' });
    const ghost = await client.call('DELETE', `/v1/chats/${chatId}/participants/nobody`, agent);
    const bad = await client.call('POST', `/v1/chats/${chatId}/participants`, alice, {
      userId: 'not valid!',
    });

    expect([byBob.status, ghost.status, bad.status]).toEqual([403, 404, 400]);
    expect(members((await client.call('GET', `/v1/chats/${chatId}`, alice)).body)).toEqual(['alice', 'bob']);
  });

  it('stops delivering to a removed participant’s open sockets at once', async () => {
    // Prepare: bob is subscribed on a socket
    const chatId = await newChat();
    const socket = await connect(client, bob);
    await socket.request({ action: 'subscribe', chatId });

    // Act
    await client.call('DELETE', `/v1/chats/${chatId}/participants/bob`, alice);
    await send(alice, chatId, 'after-removal', 'secret plans');
    await cloud.idle();

    // Assess
    expect(socket.messages(chatId)).toEqual([]);
    await socket.close();
  });

  it('lets a participant leave and an agent remove one, and audits both', async () => {
    const chatId = await newChat();
    await client.call('POST', `/v1/chats/${chatId}/participants`, agent, { userId: 'carol' });

    const left = await client.call('DELETE', `/v1/chats/${chatId}/participants/bob`, bob);
    const removed = await client.call('DELETE', `/v1/chats/${chatId}/participants/carol`, agent);
    const trail = await client.call('GET', `/v1/chats/${chatId}/audit`, agent);

    expect(members(left.body)).toEqual(['alice', 'carol']);
    expect(members(removed.body)).toEqual(['alice']);
    expect((await client.call('GET', `/v1/chats/${chatId}`, bob)).status).toBe(403);
    expect(
      (trail.body.items as { action: string; actorId: string }[]).map((a) => `${a.action}:${a.actorId}`),
    ).toEqual([
      'participant.remove:agent-3',
      'participant.remove:bob',
      'participant.add:agent-3',
      'chat.create:alice',
    ]);
  });
});

describe('preferences', () => {
  it('stores the caller’s own mute setting and returns it with the chat, to that caller only', async () => {
    const chatId = await newChat();

    const muted = await client.call('PATCH', `/v1/chats/${chatId}/preferences`, bob, { muted: true });
    const forAlice = await client.call('GET', `/v1/chats/${chatId}`, alice);
    const forAgent = await client.call('PATCH', `/v1/chats/${chatId}/preferences`, agent, { muted: true });
    const bad = await client.call('PATCH', `/v1/chats/${chatId}/preferences`, bob, { muted: 'yes' });

    expect(muted.body.preferences).toEqual({ muted: true });
    expect((await client.call('GET', `/v1/chats/${chatId}`, bob)).body.preferences).toEqual({ muted: true });
    expect(forAlice.body.preferences).toEqual({ muted: false });
    expect(forAgent.status).toBe(403);
    expect(bad.status).toBe(400);
  });
});

describe('edits and deletes', () => {
  it('edits one’s own message: message.updated reaches sockets and pollers, history shows the new text', async () => {
    // Prepare
    const chatId = await newChat();
    const message = await send(alice, chatId, 'e1', 'helo');
    const socket = await connect(client, bob);
    await socket.request({ action: 'subscribe', chatId });

    // Act
    const edited = await client.call('PATCH', `/v1/chats/${chatId}/messages/${message.messageId}`, alice, {
      text: 'hello',
    });
    await until(() => socket.received.some((e) => e.type === 'message.updated'));
    const polled = await client.call('GET', `/v1/chats/${chatId}/events?after=1&afterEvent=0`, bob);
    const history = await client.call('GET', `/v1/chats/${chatId}/messages`, bob);

    // Assess
    expect(edited.body).toMatchObject({ text: 'hello', seq: message.seq, editedAt: expect.any(String) });
    const pushed = socket.received.find((e) => e.type === 'message.updated');
    expect(pushed).toMatchObject({ seq: message.seq, eventSeq: 1, data: { text: 'hello' } });
    expect(polled.body.items).toEqual([pushed]);
    expect((history.body.items as { text: string }[]).map((m) => m.text)).toEqual(['hello']);
    await socket.close();
  });

  it('refuses edits of someone else’s message, and of a deleted one', async () => {
    const chatId = await newChat();
    const message = await send(alice, chatId, 'e2', 'mine');

    const byBob = await client.call('PATCH', `/v1/chats/${chatId}/messages/${message.messageId}`, bob, {
      text: 'x',
    });
    await client.call('DELETE', `/v1/chats/${chatId}/messages/${message.messageId}`, alice);
    const afterDelete = await client.call(
      'PATCH',
      `/v1/chats/${chatId}/messages/${message.messageId}`,
      alice,
      { text: 'y' },
    );
    const unknown = await client.call('PATCH', `/v1/chats/${chatId}/messages/m_000000000000_99`, alice, {
      text: 'y',
    });

    expect([byBob.status, afterDelete.status, unknown.status]).toEqual([403, 409, 404]);
  });

  it('soft-deletes: an agent removes any message of the tenant, the seq stays, message.deleted is broadcast and audited', async () => {
    // Prepare
    const chatId = await newChat();
    await send(alice, chatId, 'd0', 'first');
    const message = await send(bob, chatId, 'd1', 'regrettable');
    const socket = await connect(client, alice);
    await socket.request({ action: 'subscribe', chatId });

    // Act
    const byAlice = await client.call('DELETE', `/v1/chats/${chatId}/messages/${message.messageId}`, alice);
    const byAgent = await client.call('DELETE', `/v1/chats/${chatId}/messages/${message.messageId}`, agent);
    await until(() => socket.received.some((e) => e.type === 'message.deleted'));
    const history = await client.call('GET', `/v1/chats/${chatId}/messages`, alice);
    const trail = await client.call('GET', `/v1/chats/${chatId}/audit?limit=1`, agent);

    // Assess
    expect(byAlice.status).toBe(403);
    expect(byAgent.body).toMatchObject({
      seq: 2,
      text: '',
      deletedBy: 'agent-3',
      deletedAt: expect.any(String),
    });
    expect((history.body.items as { seq: number; text: string }[]).map((m) => [m.seq, m.text])).toEqual([
      [1, 'first'],
      [2, ''],
    ]);
    expect(socket.received.find((e) => e.type === 'message.deleted')).toMatchObject({
      seq: 2,
      data: { text: '' },
    });
    expect(trail.body.items).toEqual([
      expect.objectContaining({
        action: 'message.delete',
        actorId: 'agent-3',
        before: { seq: 2, text: 'regrettable' },
      }),
    ]);
    await socket.close();
  });
});
