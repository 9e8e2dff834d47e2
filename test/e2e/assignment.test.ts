/** Assignment and services' system events through the local cloud. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let visitor: string;
let agent: string;
let payments: string;

beforeAll(async () => {
  // No greeting / away texts: these tests count a visitor chat's messages from seq 1 (test/e2e/greeting.test.ts).
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, demoTexts: {} });
  client = api(cloud.urls.http);
  visitor = await client.token('demo', 'v_assign1', 'visitor');
  agent = await client.token('demo', 'lead-1', 'agent');
  payments = (
    await client.call('POST', '/v1/dev/tokens', undefined, {
      tenantId: 'demo',
      userId: 'payments',
      role: 'service',
      name: 'Payments bot',
    })
  ).body.token as string;
});
afterAll(async () => {
  await cloud?.stop();
});

const newChat = async () =>
  (await client.call('POST', '/v1/chats', visitor, { subject: 'Order 7' })).body.chatId as string;

describe('assignment', () => {
  it('assigns a chat: chat.assigned to subscribers, the agent joins, a system message says so, and it is audited', async () => {
    // Prepare
    const chatId = await newChat();
    const socket = await connect(client, visitor);
    await socket.request({ action: 'subscribe', chatId });

    // Act
    const assigned = await client.call('POST', `/v1/chats/${chatId}/assign`, agent, { agentId: 'agent-42' });
    await until(
      () => socket.received.some((e) => e.type === 'chat.assigned') && socket.messages(chatId).length === 1,
    );
    const trail = await client.call('GET', `/v1/chats/${chatId}/audit?limit=1`, agent);

    // Assess
    expect(assigned.body).toMatchObject({ assignee: 'agent-42', assignedAt: expect.any(String) });
    expect(
      (assigned.body.participants as { userId: string; role: string }[]).find((p) => p.userId === 'agent-42'),
    ).toMatchObject({
      role: 'agent',
    });
    expect(socket.received.find((e) => e.type === 'chat.assigned')?.data).toMatchObject({
      assignee: 'agent-42',
    });
    expect(socket.messages(chatId)[0]?.data).toMatchObject({
      type: 'system',
      text: 'agent-42 joined',
      system: { kind: 'agent.joined', data: { agentId: 'agent-42', assignedBy: 'lead-1' } },
    });
    expect(trail.body.items).toEqual([
      expect.objectContaining({
        action: 'chat.assign',
        before: { assignee: null },
        after: { assignee: 'agent-42' },
      }),
    ]);
    await socket.close();
  });

  it('refuses assignment by visitors and users, and of a closed chat', async () => {
    const chatId = await newChat();
    await client.call('PATCH', `/v1/chats/${chatId}`, visitor, { status: 'closed' });

    const byVisitor = await client.call('POST', `/v1/chats/${chatId}/assign`, visitor, {
      agentId: 'agent-42',
    });
    const closed = await client.call('POST', `/v1/chats/${chatId}/assign`, agent, { agentId: 'agent-42' });
    const bad = await client.call('POST', `/v1/chats/${chatId}/assign`, agent, { agent: 'x' });

    expect([byVisitor.status, closed.status, bad.status]).toEqual([403, 409, 400]);
  });
});

describe('system events', () => {
  it('posts a service event as a system message under the service’s name, idempotently', async () => {
    const chatId = await newChat();
    const body = {
      kind: 'payment.initiated',
      text: 'Payment of €20 started',
      data: { amount: 20 },
      clientMessageId: 'pay-1',
    };

    const first = await client.call('POST', `/v1/chats/${chatId}/system-events`, payments, body);
    const retry = await client.call('POST', `/v1/chats/${chatId}/system-events`, payments, body);
    const history = await client.call('GET', `/v1/chats/${chatId}/messages`, visitor);

    expect([first.status, retry.status]).toEqual([201, 200]);
    expect(first.body).toMatchObject({
      type: 'system',
      senderId: 'payments',
      senderName: 'Payments bot',
      system: { kind: 'payment.initiated', data: { amount: 20 } },
    });
    expect(history.body.items).toHaveLength(1);
  });

  it('accepts system events from services only, with a well-formed kind', async () => {
    const chatId = await newChat();

    const byAgent = await client.call('POST', `/v1/chats/${chatId}/system-events`, agent, {
      kind: 'x',
      text: 'y',
    });
    const badKind = await client.call('POST', `/v1/chats/${chatId}/system-events`, payments, {
      kind: 'Bad Kind',
      text: 'y',
    });

    expect([byAgent.status, badKind.status]).toEqual([403, 400]);
  });
});
