/** Presence: first socket of a user opens, last one closes (tabs count as one), online in participants. */
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
  alice = await client.token('demo', 'pres-alice', 'user');
  bob = await client.token('demo', 'pres-bob', 'user');
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
