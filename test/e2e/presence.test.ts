/**
 * Presence: first socket of a user opens, last one closes (tabs count as one), online in participants,
 * and the same `presence` envelopes for pollers of a shared chat.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, type Envelope, until } from '../support/clients.ts';
import { nextPollWait } from '../support/poll-waits.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let alice: string;
let bob: string;
let dave: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  alice = await client.token('demo', 'pres-alice', 'user');
  bob = await client.token('demo', 'pres-bob', 'user');
  dave = await client.token('demo', 'pres-dave', 'user');
});
afterAll(async () => {
  await cloud?.stop();
});

const onlineOf = async (chatId: string) =>
  Object.fromEntries(
    (
      (await client.call('GET', `/v1/chats/${chatId}`, alice)).body.participants as {
        userId: string;
        online?: boolean;
      }[]
    ).map((p) => [p.userId, p.online]),
  );

describe('presence', () => {
  it('announces a user once when the first tab opens and once when the last tab closes', async () => {
    // Prepare: alice watches a chat she shares with bob
    const chatId = (await client.call('POST', '/v1/chats', alice, { participants: ['pres-bob'] })).body
      .chatId as string;
    const watcher = await connect(client, alice);
    await watcher.request({ action: 'subscribe', chatId });
    const presence = () =>
      watcher.received.filter((e) => e.type === 'presence' && e.data.userId === 'pres-bob');

    // Act: bob opens two tabs, then closes both
    const tab1 = await connect(client, bob);
    const tab2 = await connect(client, bob);
    await until(() => presence().length === 1);
    const whileOnline = await onlineOf(chatId);
    await tab1.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const afterOneClosed = presence().length;
    await tab2.close();
    await until(() => presence().length === 2);

    // Assess
    expect(presence().map((e) => e.data.online)).toEqual([true, false]);
    expect(afterOneClosed).toBe(1);
    expect(whileOnline).toEqual({ 'pres-alice': true, 'pres-bob': true });
    expect(await onlineOf(chatId)).toEqual({ 'pres-alice': true, 'pres-bob': false });
    await watcher.close();
  });
});

describe('presence over HTTP polling', () => {
  type Poll = { items: Envelope[]; nextSince: string };
  const poll = async (chatId: string, since?: string): Promise<Poll> => {
    const query = since ? `?since=${since}` : '';
    const { status, body } = await client.call('GET', `/v1/chats/${chatId}/events${query}`, alice);
    expect(status).toBe(200);
    return body as unknown as Poll;
  };
  const davesIn = (result: Poll) =>
    result.items.filter((e) => e.type === 'presence' && e.data.userId === 'pres-dave');

  it('gives a poller of a shared chat the presence envelopes a socket received, once each', async () => {
    // Prepare: alice's socket watches a chat she shares with dave; alice also polls it
    const chatId = (await client.call('POST', '/v1/chats', alice, { participants: ['pres-dave'] })).body
      .chatId as string;
    const watcher = await connect(client, alice);
    await watcher.request({ action: 'subscribe', chatId });
    const pushed = () =>
      watcher.received.filter((e) => e.type === 'presence' && e.data.userId === 'pres-dave');
    const start = await poll(chatId);

    // Act: dave opens his first socket, alice polls twice; dave closes his last socket, alice polls twice
    const tab = await connect(client, dave);
    await until(() => pushed().length === 1);
    const afterOpen = await poll(chatId, start.nextSince);
    const repeatedOpen = await poll(chatId, afterOpen.nextSince);
    await tab.close();
    await until(() => pushed().length === 2);
    const afterClose = await poll(chatId, repeatedOpen.nextSince);
    const repeatedClose = await poll(chatId, afterClose.nextSince);

    // Assess
    const [online, offline] = pushed();
    expect(online?.data).toMatchObject({ userId: 'pres-dave', online: true });
    expect(offline?.data).toMatchObject({ userId: 'pres-dave', online: false });
    expect(davesIn(start)).toEqual([]);
    expect(davesIn(afterOpen)).toEqual([online]);
    expect(JSON.stringify(davesIn(afterOpen)[0])).toBe(JSON.stringify(online));
    expect(davesIn(repeatedOpen)).toEqual([]);
    expect(davesIn(afterClose)).toEqual([offline]);
    expect(davesIn(repeatedClose)).toEqual([]);
    // a poller never receives its own presence (alice's socket opened just before)
    expect(start.items.filter((e) => e.data.userId === 'pres-alice')).toEqual([]);
    await watcher.close();
  });

  it('wakes a waiting long poll with a presence change within the presence refresh (5 s)', async () => {
    // Prepare: alice long-polls a chat she shares with erin, who is offline
    const erin = await client.token('demo', 'pres-erin', 'user');
    const chatId = (await client.call('POST', '/v1/chats', alice, { participants: ['pres-erin'] })).body
      .chatId as string;
    const start = await poll(chatId);
    const started = nextPollWait();
    const waiting = client.call(
      'GET',
      `/v1/chats/${chatId}/events?waitSeconds=15&since=${start.nextSince}`,
      alice,
    );
    await started;

    // Act
    const openedAt = Date.now();
    const tab = await connect(client, erin);
    const woken = (await waiting).body as unknown as Poll;
    const wokenAfter = Date.now() - openedAt;

    // Assess
    expect(woken.items.map((e) => [e.type, e.data.userId, e.data.online])).toEqual([
      ['presence', 'pres-erin', true],
    ]);
    expect(wokenAfter).toBeLessThan(7000);
    await tab.close();
  });
});

describe('presence for agents’ chat lists', () => {
  it('reads many users at once, and pushes a customer’s changes to the watchers whose filter shows the chat', async () => {
    // Prepare: an agent watches the chats of department "presence"; erin has one there and one elsewhere.
    const agent = await client.token('demo', 'pres-agent', 'agent');
    const erin = await client.token('demo', 'pres-erin', 'user');
    const open = async (department: string) =>
      (await client.call('POST', '/v1/chats', erin, { metadata: { department } })).body.chatId as string;
    const shown = await open('presence');
    await open('elsewhere');
    const watcher = await connect(client, agent);
    await watcher.request({ action: 'watchChats', filter: { metadata__department: 'presence' } });
    const pushed = () =>
      watcher.received.filter((e) => e.type === 'presence' && e.data.userId === 'pres-erin');
    const read = async () =>
      (await client.call('GET', '/v1/presence?userIds=pres-erin,pres-nobody', agent)).body;

    // Act: erin opens a socket, then closes it.
    const before = await read();
    const tab = await connect(client, erin);
    await until(() => pushed().length === 1);
    const during = await read();
    await tab.close();
    await until(() => pushed().length === 2);

    // Assess
    expect(before).toEqual({
      items: [
        { userId: 'pres-erin', online: false },
        { userId: 'pres-nobody', online: false },
      ],
    });
    expect(during).toEqual({
      items: [
        { userId: 'pres-erin', online: true },
        { userId: 'pres-nobody', online: false },
      ],
    });
    expect(pushed().map((e) => [e.chatId, e.data.online])).toEqual([
      [shown, true],
      [shown, false],
    ]);
    expect((await client.call('GET', '/v1/presence?userIds=pres-erin', erin)).status).toBe(403);
    expect((await client.call('GET', '/v1/presence?userIds=', agent)).status).toBe(400);
    await watcher.close();
  });
});
