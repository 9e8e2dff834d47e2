/**
 * Browser SDK and envelopes too large for a socket frame: the server pushes a notice
 * (`data: { tooLarge: true, fetch }`, shared/domain/envelope-size.ts); the SDK catches the chat up,
 * which brings what the notice stood for, applied once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { frameOf } from '../../shared/domain/envelope-size.ts';
import type { Envelope } from '../../shared/domain/schemas.ts';
import type { ChatClient, ChatEvents } from '../../web/sdk/index.ts';
import { CHAT, chat, created, FakeBackend, makeClient, until } from './sdk-fakes.ts';

/** The notice the server would push for this envelope (a 1-byte limit makes any envelope too large). */
const noticeOf = (envelope: unknown): unknown => JSON.parse(frameOf(envelope as Envelope, 1));

describe('browser SDK and too-large envelopes', () => {
  const clients: ChatClient[] = [];
  const setup = () => {
    const backend = new FakeBackend();
    const made = makeClient(backend);
    clients.push(made.client);
    return { backend, ...made };
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  it('catches up a message whose envelope was too large and emits it once, in order', async () => {
    // Prepare
    const { backend, client, seen } = setup();
    backend.store(1);
    await client.connect();
    await client.subscribe(CHAT);
    const [second] = backend.store(1);

    // Act: the notice arrives twice (at-least-once).
    const notice = noticeOf(created(second!));
    backend.socket.deliver(notice);
    backend.socket.deliver(notice);
    await until(() => seen.length >= 2, 'seq 2');
    backend.publish();
    await until(() => seen.length >= 3, 'seq 3');

    // Assess
    expect(seen).toEqual([1, 2, 3]);
    expect(
      backend.requests.filter((r) => r.startsWith(`GET /v1/chats/${CHAT}/messages?after=1`)),
    ).not.toEqual([]);
  });

  it('fetches a too-large chat.updated from the event log and applies it as that change, once', async () => {
    // Prepare
    const { backend, client } = setup();
    const changes: ChatEvents['chat'][] = [];
    client.on('chat', (change) => changes.push(change));
    await client.connect();
    await client.subscribe(CHAT);
    const envelope = {
      type: 'chat.updated',
      id: `${CHAT}:event:1`,
      chatId: CHAT,
      eventSeq: 1,
      at: new Date().toISOString(),
      data: chat(CHAT, { subject: 'huge', lastEventSeq: 1 }),
    };
    backend.events.set(CHAT, [envelope]);

    // Act: the notice arrives twice (at-least-once)
    backend.socket.deliver(noticeOf(envelope));
    backend.socket.deliver(noticeOf(envelope));
    await until(() => changes.length >= 1, 'chat.updated');

    // Assess
    expect(backend.requests.some((r) => r.startsWith(`GET /v1/chats/${CHAT}/events?`))).toBe(true);
    expect(changes).toEqual([
      { type: 'chat.updated', chat: expect.objectContaining({ chatId: CHAT, lastEventSeq: 1 }) },
    ]);
  });
});
