/**
 * Live chat lists for agents through the local cloud: watchChats over the socket, and
 * GET /v1/chats/changes for pollers, which must receive the same envelopes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, type Envelope, type TestSocket, until } from '../support/clients.ts';
import { nextPollWait } from '../support/poll-waits.ts';

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

describe('GET /v1/chats/changes (live chat lists without a socket)', () => {
  const changes = async (token: string, query: Record<string, string>) => {
    const response = await client.call('GET', `/v1/chats/changes?${new URLSearchParams(query)}`, token);
    return response as {
      status: number;
      body: { items?: Envelope[]; nextSince?: string; hasMore?: boolean };
    };
  };

  it('gives a poller exactly the envelopes a socket watching the same filter receives, leftFilter included', async () => {
    // Prepare: a socket and a poller, both on the same filter
    const filter = { metadata__project_id: 'poll-1', status: 'open' };
    const socket = await connect(client, agent);
    await socket.request({ action: 'watchChats', filter });
    const start = await changes(agent, { ...filter });

    // Act
    const matching = await create({ project_id: 'poll-1' });
    const other = await create({ project_id: 'poll-2' });
    await client.call('POST', `/v1/chats/${matching}/assign`, agent, { agentId: 'agent-1' });
    await client.call('PATCH', `/v1/chats/${other}`, agent, { metadata: { project_id: 'poll-1' } });
    await client.call('PATCH', `/v1/chats/${matching}`, agent, { status: 'closed', rating: 5 });
    await cloud.idle();
    await until(() => socket.received.filter((e) => e.type.startsWith('chat.')).length === 4);
    const polled = await changes(agent, { ...filter, since: start.body.nextSince ?? '' });
    const again = await changes(agent, { ...filter, since: polled.body.nextSince ?? '' });

    // Assess
    // Chats fan out concurrently: the socket's order across chats may differ from the log's (by `at`).
    const byTime = (a: Envelope, b: Envelope) => a.at.localeCompare(b.at);
    const pushed = socket.received.filter((e) => e.type.startsWith('chat.')).sort(byTime);
    expect(start.status).toBe(200);
    expect(polled.status).toBe(200);
    expect(pushed.map((e) => [e.type, e.chatId, e.leftFilter ?? false])).toEqual([
      ['chat.created', matching, false],
      ['chat.assigned', matching, false],
      ['chat.updated', other, false],
      ['chat.closed', matching, true],
    ]);
    expect(polled.body.items).toEqual(pushed);
    expect(polled.body.hasMore).toBe(false);
    expect(again.body.items).toEqual([]);
    await socket.close();
  });

  it("long-polls until a matching change, and never shows another tenant's chats", async () => {
    // Prepare
    const outsider = await client.token('matrix-other', 'watcher-1', 'agent');
    const filter = { metadata__project_id: 'poll-wait' };
    const start = await changes(agent, filter);

    // Act: the other tenant's matching chat comes first, then ours, while the poll waits
    const started = nextPollWait();
    const waiting = changes(agent, { ...filter, since: start.body.nextSince ?? '', waitSeconds: '10' });
    await started;
    const readAgain = nextPollWait();
    const theirs = (
      await client.call('POST', '/v1/chats', outsider, { metadata: { project_id: 'poll-wait' } })
    ).body.chatId;
    await readAgain;
    const ours = await create({ project_id: 'poll-wait' });
    const woken = await waiting;

    // Assess
    expect(theirs).toEqual(expect.any(String));
    expect(woken.status).toBe(200);
    expect(woken.body.items?.map((e) => [e.type, e.chatId])).toEqual([['chat.created', ours]]);
  });

  it('refuses visitors and users (403), and bad filters or cursors (400)', async () => {
    // Prepare
    const visitor = await client.token('demo', 'poll-visitor', 'visitor');

    // Act
    const outcomes = await Promise.all([
      changes(user, {}),
      changes(visitor, {}),
      changes(agent, { participant: 'wanda' }),
      changes(agent, { metadata__priority__near: '3' }),
      changes(agent, { limit: '5' }),
      changes(agent, { since: 'bm90LWEtY3Vyc29y' }),
      changes(agent, { waitSeconds: '21' }),
    ]);

    // Assess
    expect(outcomes.map((o) => o.status)).toEqual([403, 403, 400, 400, 400, 400, 400]);
    expect(outcomes[5]?.body).toMatchObject({ error: { code: 'invalid_request' } });
  });
});
