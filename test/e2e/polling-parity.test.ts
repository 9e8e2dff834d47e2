/**
 * "Every feature works over the socket and over HTTP polling with identical envelopes" (issue 3), in one
 * run through the local cloud: one chat goes through every kind of event a subscriber can receive —
 * presence, typing, messages, a reply (and its parent's new reply count), a reaction, a mention, an edit, a delete, a
 * receipt, a participant added, an assignment (with its system message), a close and a reopen — while bob watches it on a socket and polls it over HTTP.
 * Whatever the socket received, the poller received too, deep-equal, and nothing else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { api, connect, type Envelope, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
let alice: string;
let bob: string;
let agent: string;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
  [alice, bob, agent] = await Promise.all([
    client.token('demo', 'parity-alice', 'user'),
    client.token('demo', 'parity-bob', 'user'),
    client.token('demo', 'parity-agent', 'agent'),
  ]);
});
afterAll(async () => {
  await cloud?.stop();
});

/** bob's HTTP poller: every cursor passed back, every envelope kept. */
const poller = (chatId: string) => {
  const received: Envelope[] = [];
  let cursor = { after: '0', afterEvent: '0', since: '' };
  return {
    received,
    async poll(): Promise<void> {
      for (let more = true; more;) {
        const query = new URLSearchParams({
          after: cursor.after,
          afterEvent: cursor.afterEvent,
          ...(cursor.since ? { since: cursor.since } : {}),
        });
        const { status, body } = await client.call('GET', `/v1/chats/${chatId}/events?${query}`, bob);
        if (status !== 200) throw new Error(`poll: ${status} ${JSON.stringify(body)}`);
        received.push(...(body.items as Envelope[]));
        cursor = {
          after: String(body.nextAfter),
          afterEvent: String(body.nextAfterEvent),
          since: String(body.nextSince),
        };
        more = body.hasMore === true;
      }
    },
  };
};

describe('socket and polling parity', () => {
  it('gives a poller exactly the envelopes a subscribed socket receives, for every kind of event', async () => {
    // Prepare: bob subscribes on a socket and starts polling before anything happens
    const chatId = await client.createChat(alice, { participants: ['parity-bob'] });
    const socket = await connect(client, bob);
    await socket.request({ action: 'subscribe', chatId });
    const http = poller(chatId);
    await http.poll();
    const pushed = () => socket.received.filter((e) => e.chatId === chatId && e.type !== 'ack');
    const step = async (count: number) => {
      await cloud.idle();
      await until(() => pushed().length >= count);
      await http.poll();
    };

    // Act: one of each, polling between steps (presence and typing are state: a poller sees the latest)
    const aliceSocket = await connect(client, alice);
    await step(1); // presence: alice online
    await client.call('POST', `/v1/chats/${chatId}/typing`, alice, { isTyping: true });
    await step(2); // typing
    const first = await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'p-1',
      type: 'text',
      text: 'helo',
    });
    const second = await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'p-2',
      type: 'text',
      text: 'second',
    });
    await step(4); // two message.created
    const secondId = (second.body as { messageId: string }).messageId;
    await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'p-3',
      type: 'text',
      text: 'a reply',
      replyTo: secondId,
    });
    await step(6); // the reply's message.created, its parent's message.updated (reply count)
    await client.call(
      'PUT',
      `/v1/chats/${chatId}/messages/${secondId}/reactions/${encodeURIComponent('👍')}`,
      alice,
    );
    await step(7); // reaction
    await client.call('POST', `/v1/chats/${chatId}/messages`, alice, {
      clientMessageId: 'p-4',
      type: 'text',
      text: 'ping @parity-bob',
      mentions: ['parity-bob'],
    });
    await step(9); // message.created, mention
    const messageId = (first.body as { messageId: string }).messageId;
    await client.call('PATCH', `/v1/chats/${chatId}/messages/${messageId}`, alice, { text: 'hello' });
    // Polled before the delete: a delete scrubs the text from the message's earlier events.
    await step(10); // message.updated
    await client.call('DELETE', `/v1/chats/${chatId}/messages/${messageId}`, alice);
    await client.call('POST', `/v1/chats/${chatId}/read`, alice, { seq: 2 });
    await step(12); // message.deleted, receipt
    await client.call('POST', `/v1/chats/${chatId}/participants`, alice, { userId: 'parity-carol' });
    await client.call('POST', `/v1/chats/${chatId}/assign`, agent, { agentId: 'parity-agent' });
    await step(15); // chat.updated, chat.assigned, the "joined" system message
    await client.call('PATCH', `/v1/chats/${chatId}`, alice, { status: 'closed', rating: 5 });
    await client.call('PATCH', `/v1/chats/${chatId}`, agent, { status: 'open' });
    await step(17); // chat.closed, chat.updated (reopen)
    await aliceSocket.close();
    await step(18); // presence: alice offline

    // Assess
    const kinds = pushed().map((e) => e.type);
    expect([...new Set(kinds)].sort()).toEqual(
      [
        'chat.assigned',
        'chat.closed',
        'chat.updated',
        'message.created',
        'message.deleted',
        'message.updated',
        'mention',
        'presence',
        'reaction',
        'receipt',
        'typing',
      ].sort(),
    );
    const byId = (envelopes: Envelope[]) => new Map(envelopes.map((e) => [e.id, e]));
    // (the socket may see a redelivered envelope twice — at-least-once — the poller never does)
    expect(byId(pushed()).size).toBe(18);
    expect(http.received).toHaveLength(18);
    expect(byId(http.received)).toEqual(byId(pushed()));
    await socket.close();
  });
});
