/**
 * Chat updates, sessions (close/reopen) and the audit trail through the local cloud: the chat event
 * log reaches sockets (fan-out) and pollers (afterEvent) with identical envelopes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let visitor: string;
let bob: string;
let agent: string;
let otherAgent: string;

beforeAll(async () => {
  // No greeting / away texts: these tests count a visitor chat's messages from seq 1 (test/e2e/greeting.test.ts).
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, demoTexts: {} });
  client = api(cloud.urls.http);
  [visitor, bob, agent, otherAgent] = await Promise.all([
    client.token('demo', 'v_visitor7', 'visitor'),
    client.token('demo', 'bob', 'user'),
    client.token('demo', 'agent-7', 'agent'),
    client.token('other', 'agent-9', 'agent'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

const newChat = async () =>
  (await client.call('POST', '/v1/chats', visitor, { subject: 'Help' })).body.chatId as string;
const patch = (token: string, chatId: string, body: unknown) =>
  client.call('PATCH', `/v1/chats/${chatId}`, token, body);
const send = (token: string, chatId: string, clientMessageId: string) =>
  client.call('POST', `/v1/chats/${chatId}/messages`, token, { clientMessageId, type: 'text', text: 'hi' });

describe('sessions', () => {
  it('closes a chat with a rating: chat.closed reaches subscribers and pollers alike, and new messages get 409', async () => {
    // Prepare
    const chatId = await newChat();
    const socket = await connect(client, agent);
    await socket.request({ action: 'subscribe', chatId });

    // Act
    const closed = await patch(visitor, chatId, { status: 'closed', rating: 5, feedback: 'Great help' });
    const refused = await send(visitor, chatId, 'after-close');
    await until(() => socket.received.some((e) => e.type === 'chat.closed'));
    const polled = await client.call('GET', `/v1/chats/${chatId}/events?after=0&afterEvent=0`, visitor);

    // Assess
    expect(closed.status).toBe(200);
    expect(closed.body).toMatchObject({
      status: 'closed',
      rating: 5,
      feedback: 'Great help',
      lastEventSeq: 1,
    });
    expect(refused.status).toBe(409);
    expect((await client.call('GET', `/v1/chats/${chatId}`, visitor)).body.lastSeq).toBe(0);
    const pushed = socket.received.find((e) => e.type === 'chat.closed');
    const items = polled.body.items as Record<string, unknown>[];
    expect(items).toEqual([pushed]);
    expect(pushed).toMatchObject({
      chatId,
      eventSeq: 1,
      id: `${chatId}:event:1`,
      data: { status: 'closed', rating: 5 },
    });
    expect(polled.body.nextAfterEvent).toBe(1);
    await socket.close();
  });

  it('reopens a closed chat, after which messages are accepted again', async () => {
    const chatId = await newChat();
    await patch(visitor, chatId, { status: 'closed' });

    const reopened = await patch(agent, chatId, { status: 'open' });
    const sent = await send(visitor, chatId, 'after-reopen');

    expect(reopened.body).toMatchObject({ status: 'open', lastEventSeq: 2 });
    expect(sent.status).toBe(201);
  });

  it('answers a patch that changes nothing with the chat and writes no event', async () => {
    const chatId = await newChat();

    const same = await patch(visitor, chatId, { subject: 'Help' });

    expect(same.status).toBe(200);
    expect(same.body.lastEventSeq).toBeUndefined();
    expect((await client.call('GET', `/v1/chats/${chatId}/events?afterEvent=0`, visitor)).body.items).toEqual(
      [],
    );
  });

  it('refuses bad patches with a clear 4xx and changes nothing', async () => {
    const chatId = await newChat();
    await client.call('POST', '/v1/chats', agent, {});

    const cases = await Promise.all([
      patch(visitor, chatId, {}),
      patch(visitor, chatId, { rating: 4 }),
      patch(visitor, chatId, { status: 'closed', rating: 6 }),
      patch(visitor, chatId, { status: 'archived' }),
      patch(bob, chatId, { status: 'closed' }),
      patch(otherAgent, chatId, { subject: 'x' }),
    ]);
    const chat = await client.call('GET', `/v1/chats/${chatId}`, visitor);

    expect(cases.map((c) => c.status)).toEqual([400, 400, 400, 400, 403, 404]);
    expect(chat.body).toMatchObject({ status: 'open', subject: 'Help' });
    expect(chat.body.lastEventSeq).toBeUndefined();
  });

  it('lets only agents, services or the creator change subject and metadata, announcing chat.updated', async () => {
    // Prepare: an agent-created chat the visitor did not create
    const chatId = (
      await client.call('POST', '/v1/chats', agent, { participants: ['bob'], metadata: { priority: 1 } })
    ).body.chatId as string;
    const socket = await connect(client, bob);
    await socket.request({ action: 'subscribe', chatId });

    // Act
    const byBob = await patch(bob, chatId, { metadata: { priority: 9 } });
    const byAgent = await patch(agent, chatId, { metadata: { priority: 5, project_id: '123' } });
    await until(() => socket.received.some((e) => e.type === 'chat.updated'));

    // Assess
    expect(byBob.status).toBe(403);
    expect(byAgent.body.metadata).toEqual({ priority: 5, project_id: '123' });
    expect(socket.received.find((e) => e.type === 'chat.updated')?.data).toMatchObject({
      metadata: { priority: 5, project_id: '123' },
    });
    await socket.close();
  });
});

describe('audit trail', () => {
  it('records create, metadata change, close and reopen with who, when, before and after, newest first', async () => {
    // Prepare
    const chatId = await newChat();
    await patch(agent, chatId, { metadata: { department: 'sales' } });
    await patch(visitor, chatId, { status: 'closed', rating: 4 });
    await patch(agent, chatId, { status: 'open' });

    // Act
    const trail = await client.call('GET', `/v1/chats/${chatId}/audit`, agent);
    const page = await client.call('GET', `/v1/chats/${chatId}/audit?limit=2`, agent);
    const rest = await client.call(
      'GET',
      `/v1/chats/${chatId}/audit?limit=2&cursor=${page.body.nextCursor}`,
      agent,
    );

    // Assess
    const items = trail.body.items as Record<string, unknown>[];
    expect(items.map((a) => [a.action, a.actorId])).toEqual([
      ['chat.reopen', 'agent-7'],
      ['chat.close', 'v_visitor7'],
      ['chat.update', 'agent-7'],
      ['chat.create', 'v_visitor7'],
    ]);
    expect(items[1]).toMatchObject({
      before: { status: 'open', rating: null },
      after: { status: 'closed', rating: 4 },
    });
    expect(items[2]).toMatchObject({
      before: { metadata: {} },
      after: { metadata: { department: 'sales' } },
      actorRole: 'agent',
    });
    expect([...(page.body.items as unknown[]), ...(rest.body.items as unknown[])]).toEqual(items);
  });

  it('is for agents and services of the tenant only', async () => {
    const chatId = await newChat();

    const [asVisitor, asOtherTenant] = await Promise.all([
      client.call('GET', `/v1/chats/${chatId}/audit`, visitor),
      client.call('GET', `/v1/chats/${chatId}/audit`, otherAgent),
    ]);

    expect([asVisitor.status, asOtherTenant.status]).toEqual([403, 404]);
  });
});
