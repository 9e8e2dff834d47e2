/** watchChats: live chat lists for agents through the local cloud. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, type TestSocket, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let agent: string;
let user: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  agent = await client.token('demo', 'watcher-1', 'agent');
  user = await client.token('demo', 'wanda', 'user');
});
afterAll(async () => {
  await cloud?.stop();
});

const create = async (metadata: Record<string, unknown>) =>
  (await client.call('POST', '/v1/chats', agent, { metadata })).body.chatId as string;
const listEvents = (socket: TestSocket, chatId: string) =>
  socket.received.filter((e) => e.chatId === chatId && e.type.startsWith('chat.'));

describe('watchChats', () => {
  it('announces created, updated, assigned and closed chats that match the filter, and flags one that leaves it', async () => {
    // Prepare
    const socket = await connect(client, agent);
    const ack = await socket.request({
      action: 'watchChats',
      filter: { metadata__project_id: '123', status: 'open' },
    });

    // Act
    const matching = await create({ project_id: '123' });
    const other = await create({ project_id: '999' });
    await client.call('POST', `/v1/chats/${matching}/assign`, agent, { agentId: 'agent-1' });
    await client.call('PATCH', `/v1/chats/${matching}`, agent, { status: 'closed' });
    const leaving = await create({ project_id: '123' });
    await client.call('PATCH', `/v1/chats/${leaving}`, agent, { metadata: { project_id: '456' } });
    await cloud.idle();
    await until(() => listEvents(socket, leaving).length === 2);

    // Assess
    expect(ack).toMatchObject({ type: 'ack', data: { watching: true } });
    expect(listEvents(socket, matching).map((e) => [e.type, e.leftFilter ?? false])).toEqual([
      ['chat.created', false],
      ['chat.assigned', false],
      ['chat.closed', true],
    ]);
    expect(listEvents(socket, other)).toEqual([]);
    expect(listEvents(socket, leaving).map((e) => [e.type, e.leftFilter ?? false])).toEqual([
      ['chat.created', false],
      ['chat.updated', true],
    ]);
    await socket.close();
  });

  it('replaces the filter when watchChats is sent again, and stops with unwatchChats', async () => {
    const socket = await connect(client, agent);
    await socket.request({ action: 'watchChats', filter: { metadata__department: 'sales' } });
    await socket.request({ action: 'watchChats', filter: { metadata__department: 'support' } });

    const sales = await create({ department: 'sales' });
    const support = await create({ department: 'support' });
    await cloud.idle();
    await until(() => listEvents(socket, support).length === 1);
    await socket.request({ action: 'unwatchChats' });
    const later = await create({ department: 'support' });
    await cloud.idle();

    expect(listEvents(socket, sales)).toEqual([]);
    expect(listEvents(socket, later)).toEqual([]);
    await socket.close();
  });

  it('refuses users and invalid filters with an error envelope', async () => {
    const staff = await connect(client, agent);
    const member = await connect(client, user);

    const byUser = await member.request({ action: 'watchChats', filter: {} });
    const badOp = await staff.request({ action: 'watchChats', filter: { metadata__priority__near: '3' } });

    expect(byUser).toMatchObject({ type: 'error', data: { code: 'forbidden' } });
    expect(badOp).toMatchObject({ type: 'error', data: { code: 'invalid_request' } });
    await Promise.all([staff.close(), member.close()]);
  });
});
