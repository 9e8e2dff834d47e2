/**
 * Responders through the local cloud: the demo tenant's greeting and away message are posted into a
 * visitor's new chat as its first system messages; the away message only while no agent is online.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TEXTS, type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let visitor: string;
let service: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  [visitor, service] = await Promise.all([
    client.token('demo', 'v_greeted', 'visitor'),
    client.token('demo', 'backend', 'service'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

interface Posted {
  seq: number;
  type: string;
  text: string;
  senderId: string;
  system?: { kind: string };
}
const messagesOf = async (token: string, chatId: string): Promise<Posted[]> =>
  (await client.call('GET', `/v1/chats/${chatId}/messages`, token)).body.items as unknown as Posted[];
const agentsOnline = async () =>
  (await client.call('GET', '/v1/stats', service)).body.agentsOnline as unknown as number;

describe('greeting and away message', () => {
  it('greets a visitor’s new chat as seq 1 and adds the away message as seq 2 when no agent is online', async () => {
    // Prepare
    expect(await agentsOnline()).toBe(0);

    // Act
    const created = await client.call('POST', '/v1/chats', visitor, { subject: 'Help' });
    const chatId = created.body.chatId as string;
    const messages = await messagesOf(visitor, chatId);

    // Assess
    expect(created.status).toBe(201);
    expect(created.body.lastSeq).toBe(2);
    expect(messages).toEqual([
      expect.objectContaining({
        seq: 1,
        type: 'system',
        senderId: 'system',
        text: DEMO_TEXTS.greeting,
        system: { kind: 'greeting' },
      }),
      expect.objectContaining({
        seq: 2,
        type: 'system',
        text: DEMO_TEXTS.awayMessage,
        system: { kind: 'away' },
      }),
    ]);
  });

  it('only greets while an agent of the tenant is online', async () => {
    // Prepare
    const agent = await connect(client, await client.token('demo', 'agent-1', 'agent'));
    await until(async () => (await agentsOnline()) === 1);

    // Act
    const created = await client.call('POST', '/v1/chats', visitor, {});
    const messages = await messagesOf(visitor, created.body.chatId as string);
    await agent.close();

    // Assess
    expect(messages.map((message) => [message.seq, message.system?.kind])).toEqual([[1, 'greeting']]);
  });

  it('posts nothing into chats that users, agents or services create', async () => {
    // Prepare
    const [user, agent] = await Promise.all([
      client.token('demo', 'alice', 'user'),
      client.token('demo', 'agent-2', 'agent'),
    ]);

    // Act
    const chats = await Promise.all([
      client.call('POST', '/v1/chats', user, { participants: ['bob'] }),
      client.call('POST', '/v1/chats', agent, {}),
      client.call('POST', '/v1/chats', service, { participants: ['alice'] }),
    ]);
    const histories = await Promise.all(chats.map((chat) => messagesOf(service, chat.body.chatId as string)));

    // Assess
    expect(chats.map((chat) => [chat.status, chat.body.lastSeq])).toEqual([
      [201, 0],
      [201, 0],
      [201, 0],
    ]);
    expect(histories).toEqual([[], [], []]);
  });

  it('never greets twice when the visitor asks again for the same unique chat', async () => {
    // Prepare
    const other = await client.token('demo', 'v_unique', 'visitor');
    const first = await client.call('POST', '/v1/chats', other, { unique: true });

    // Act
    const again = await client.call('POST', '/v1/chats', other, { unique: true });
    const messages = await messagesOf(other, first.body.chatId as string);

    // Assess
    expect([first.status, again.status]).toEqual([201, 200]);
    expect(again.body.chatId).toBe(first.body.chatId);
    expect(messages.map((message) => message.system?.kind)).toEqual(['greeting', 'away']);
  });
});
