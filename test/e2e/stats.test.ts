/**
 * GET /v1/stats through the local cloud: connection counters move with $connect / $disconnect, the
 * fan-out counts open chats per batch and messages per tumbling window, written at its end (1 s here, a
 * minute as deployed). Each test uses a tenant of its own, so the numbers are absolute.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, tumblingWindowSeconds: 1 });
  client = api(cloud.urls.http);
});
afterAll(async () => {
  await cloud?.stop();
});

interface Stats {
  liveConnections: number;
  agentsOnline: number;
  agentConnections: number;
  openChats: number;
  messagesToday: number;
  day: string;
}
const statsOf = async (token: string): Promise<Stats> => {
  const { status, body } = await client.call('GET', '/v1/stats', token);
  expect(status).toBe(200);
  return body as unknown as Stats;
};

describe('GET /v1/stats', () => {
  it('counts live connections and agents online as sockets open and close', async () => {
    // Prepare
    const [agent, user, service] = await Promise.all([
      client.token('stats-conn', 'agent-1', 'agent'),
      client.token('stats-conn', 'alice', 'user'),
      client.token('stats-conn', 'backend', 'service'),
    ]);
    const before = await statsOf(service);

    // Act
    const [agentSocket, userSocket] = await Promise.all([connect(client, agent), connect(client, user)]);
    // The counters follow the table stream (connection items inserted and removed).
    await cloud.idle();
    const open = await statsOf(service);
    await userSocket.close();
    await until(async () => (await statsOf(service)).liveConnections === 1);
    const afterOneClosed = await statsOf(service);
    await agentSocket.close();
    // The socket count and the set of agents online are updated by separate writes: wait for both.
    await until(async () => {
      const stats = await statsOf(service);
      return stats.liveConnections === 0 && stats.agentsOnline === 0;
    });
    const afterBothClosed = await statsOf(agent);

    // Assess
    expect(before).toMatchObject({ liveConnections: 0, agentsOnline: 0 });
    expect(open).toMatchObject({ liveConnections: 2, agentsOnline: 1 });
    expect(afterOneClosed).toMatchObject({ liveConnections: 1, agentsOnline: 1 });
    expect(afterBothClosed).toMatchObject({ liveConnections: 0, agentsOnline: 0 });
  });

  it('counts an agent with two tabs once in agentsOnline and twice in agentConnections', async () => {
    // Prepare
    const [agent, other, service] = await Promise.all([
      client.token('stats-tabs', 'agent-1', 'agent'),
      client.token('stats-tabs', 'agent-2', 'agent'),
      client.token('stats-tabs', 'backend', 'service'),
    ]);

    // Act
    const tab1 = await connect(client, agent);
    const tab2 = await connect(client, agent);
    await cloud.idle();
    const twoTabs = await statsOf(service);
    const otherSocket = await connect(client, other);
    await cloud.idle();
    const twoAgents = await statsOf(service);
    await tab1.close();
    await until(async () => (await statsOf(service)).agentConnections === 2);
    const oneTabLeft = await statsOf(service);
    await Promise.all([tab2.close(), otherSocket.close()]);
    // The connection count drops before the last tab's presence transition is stored: wait for both.
    await until(async () => {
      const now = await statsOf(service);
      return now.liveConnections === 0 && now.agentsOnline === 0;
    });
    const gone = await statsOf(service);

    // Assess
    expect(twoTabs).toMatchObject({ liveConnections: 2, agentConnections: 2, agentsOnline: 1 });
    expect(twoAgents).toMatchObject({ liveConnections: 3, agentConnections: 3, agentsOnline: 2 });
    expect(oneTabLeft).toMatchObject({ agentConnections: 2, agentsOnline: 2 });
    expect(gone).toMatchObject({ agentConnections: 0, agentsOnline: 0 });
  });

  it('counts the messages of the current UTC day once the fan-out’s window has ended', async () => {
    // Prepare
    const [alice, agent] = await Promise.all([
      client.token('stats-msg', 'alice', 'user'),
      client.token('stats-msg', 'agent-1', 'agent'),
    ]);
    const created = await client.call('POST', '/v1/chats', alice, { participants: ['bob'] });
    const chatId = created.body.chatId as string;
    await cloud.idle();
    const before = await statsOf(agent);

    // Act
    for (let i = 1; i <= 3; i++) {
      await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
        clientMessageId: `m${i}`,
        type: 'text',
        text: `${i}`,
      });
    }
    await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'm3',
      type: 'text',
      text: 'a retry stores nothing',
    });
    await cloud.windowsClosed();
    const after = await statsOf(agent);

    // Assess
    expect(after.messagesToday - before.messagesToday).toBe(3);
    expect(after.day).toBe(new Date().toISOString().slice(0, 10));
  });

  it('counts open chats up on creation and reopen, and down on close, as the fan-out processes them', async () => {
    // Prepare
    const [alice, agent] = await Promise.all([
      client.token('stats-chats', 'alice', 'user'),
      client.token('stats-chats', 'agent-1', 'agent'),
    ]);
    const newChat = async () =>
      (await client.call('POST', '/v1/chats', alice, { participants: ['bob'] })).body.chatId as string;
    const setStatus = (chatId: string, status: 'open' | 'closed') =>
      client.call('PATCH', `/v1/chats/${chatId}`, agent, { status });

    // Act
    // Open-chat changes are written by the batch that has them, not at the window's end.
    const counted = async (): Promise<Stats> => {
      await cloud.idle();
      return statsOf(agent);
    };
    const [first, second] = [await newChat(), await newChat()];
    const created = await counted();
    await setStatus(first, 'closed');
    await setStatus(first, 'closed');
    const closed = await counted();
    await setStatus(first, 'open');
    await setStatus(second, 'closed');
    const reopened = await counted();

    // Assess
    expect(created.openChats).toBe(2);
    expect(closed.openChats).toBe(1);
    expect(reopened.openChats).toBe(1);
  });

  it('refuses visitors and users with 403', async () => {
    // Prepare
    const [visitor, user] = await Promise.all([
      client.token('demo', 'v_stats', 'visitor'),
      client.token('demo', 'alice', 'user'),
    ]);

    // Act
    const answers = await Promise.all([
      client.call('GET', '/v1/stats', visitor),
      client.call('GET', '/v1/stats', user),
      client.call('GET', '/v1/stats'),
    ]);

    // Assess
    expect(answers.map((answer) => answer.status)).toEqual([403, 403, 401]);
    expect(answers[0]?.body).toMatchObject({ error: { code: 'forbidden' } });
  });
});
