/**
 * Browser SDK delivery against a scripted backend and socket: every message once, per chat in seq
 * order, holes fetched, catch-up after every (re)connect in the contract's order (subscribe, ack, then
 * GET …/messages?after=), retried until it succeeds; edits, deletes and the other envelopes applied.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient, ChatEvents, Message } from '../../web/sdk/index.ts';
import { CHAT, chatsOf, created, FakeBackend, makeClient, message, until } from './sdk-fakes.ts';

const messageReads = (backend: FakeBackend) => backend.requests.filter((r) => r.includes('/messages?'));

describe('browser SDK delivery', () => {
  const clients: ChatClient[] = [];
  const setup = (backend = new FakeBackend()) => {
    const made = makeClient(backend);
    clients.push(made.client);
    return { backend, ...made };
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  it('emits the history page by page, then live messages, in seq order and each once', async () => {
    // Prepare: three stored messages, two per page.
    const { backend, client, seen } = setup();
    backend.pageSize = 2;
    backend.store(3);
    await client.connect();

    // Act: subscribe; the socket then delivers seq 4 twice (at-least-once) and seq 2 again.
    await client.subscribe(CHAT);
    const fourth = backend.publish();
    backend.socket.deliver(created(fourth));
    backend.socket.deliver(created(message(2)));
    await until(() => seen.length >= 4, 'seq 4');
    backend.publish();
    await until(() => seen.length >= 5, 'seq 5');

    // Assess
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(messageReads(backend)).toEqual([
      `GET /v1/chats/${CHAT}/messages?after=0&limit=100`,
      `GET /v1/chats/${CHAT}/messages?after=2&limit=100`,
    ]);
  });

  it('holds back a message that arrives early and fetches the hole below it first', async () => {
    // Prepare
    const { backend, client, seen } = setup();
    backend.store(1);
    await client.connect();
    await client.subscribe(CHAT);

    // Act: seq 2 and 3 are stored, but only 3 reaches the socket.
    backend.store(1);
    backend.publish();
    await until(() => seen.length >= 3, 'seq 3');

    // Assess
    expect(seen).toEqual([1, 2, 3]);
    expect(messageReads(backend)).toContain(`GET /v1/chats/${CHAT}/messages?after=1&limit=100`);
  });

  it('subscribes, waits for the ack, and only then catches up', async () => {
    // Prepare
    const { backend, client } = setup();
    backend.store(2);
    await client.connect();

    // Act
    await client.subscribe(CHAT);

    // Assess: the subscribe frame precedes the first history read.
    const subscribeAt = backend.requests.indexOf(`WS subscribe ${CHAT}`);
    const readAt = backend.requests.findIndex((r) => r.includes('/messages?'));
    expect(subscribeAt).toBeGreaterThanOrEqual(0);
    expect(readAt).toBeGreaterThan(subscribeAt);
    expect(client.lastSeq(CHAT)).toBe(2);
  });

  it('reconnects with a new ticket after a drop, resubscribes, then fetches only what it missed', async () => {
    // Prepare
    const { backend, client, seen, statuses } = setup();
    backend.store(2);
    await client.connect();
    await client.subscribe(CHAT);
    const first = backend.socket;

    // Act: the server drops the socket; two messages are stored meanwhile.
    first.drop();
    backend.store(2);
    await until(() => seen.length >= 4, 'the missed messages');

    // Assess
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(backend.sockets.map((socket) => socket.url)).toEqual([
      'ws://fake?ticket=ticket-1',
      'ws://fake?ticket=ticket-2',
    ]);
    expect(backend.socket.frames.map((frame) => [frame.action, chatsOf(frame).map((c) => c.chatId)])).toEqual(
      [['subscribe', [CHAT]]],
    );
    const resubscribed = backend.requests.lastIndexOf(`WS subscribe ${CHAT}`);
    expect(backend.requests.slice(resubscribed)).toContain(
      `GET /v1/chats/${CHAT}/messages?after=2&limit=100`,
    );
    expect(statuses).toEqual(['connecting', 'live', 'connecting', 'live']);
  });

  it('resubscribes every chat after a reconnect in one frame per 25 chats, each from its own last seq', async () => {
    // Prepare: 30 chats with one message each, held; the socket drops and each chat gets a second one.
    const { backend, client, seenIn } = setup();
    backend.ackMessages = 50;
    const chatIds = Array.from({ length: 30 }, (_, i) => `ch_${String(i).padStart(20, 'b')}`);
    for (const chatId of chatIds) backend.store(1, chatId);
    await client.connect();
    for (const chatId of chatIds) await client.subscribe(chatId);
    const framesBefore = backend.subscribeFrames.length;
    backend.socket.drop();
    for (const chatId of chatIds) backend.store(1, chatId);

    // Act
    await until(() => chatIds.every((chatId) => seenIn[chatId]?.length === 2), 'every missed message');

    // Assess: two frames (25 + 5 chats) resubscribed all 30, each after seq 1; the acks brought seq 2.
    const resubscribed = backend.subscribeFrames.slice(framesBefore);
    expect(resubscribed).toEqual([chatIds.slice(0, 25), chatIds.slice(25)]);
    expect(backend.socket.frames.flatMap(chatsOf).map((c) => c.after)).toEqual(chatIds.map(() => 1));
    for (const chatId of chatIds) expect(seenIn[chatId]).toEqual([1, 2]);
    expect(messageReads(backend).filter((r) => !r.includes('after=0'))).toEqual([]);
  });

  it('takes what a reconnect missed from the subscribe ack, without a history read', async () => {
    // Prepare: a server whose acks carry the missed messages; two held, then the socket drops.
    const { backend, client, seen } = setup();
    backend.ackMessages = 50;
    backend.store(2);
    await client.connect();
    await client.subscribe(CHAT);
    backend.socket.drop();
    backend.store(3);

    // Act
    await until(() => seen.length >= 5, 'the missed messages');

    // Assess: resubscribed from seq 2, and no GET …/messages at all (the first ack brought 1 and 2 too).
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(backend.socket.frames.map((frame) => [frame.action, chatsOf(frame)[0]?.after])).toEqual([
      ['subscribe', 2],
    ]);
    expect(messageReads(backend)).toEqual([]);
    expect(client.lastSeq(CHAT)).toBe(5);
  });

  it('fetches the rest with after= when the subscribe ack cannot carry all that was missed', async () => {
    // Prepare: acks carry at most two messages; five are stored.
    const { backend, client, seen } = setup();
    backend.ackMessages = 2;
    backend.store(5);
    await client.connect();

    // Act
    await client.subscribe(CHAT);

    // Assess: 1 and 2 from the ack, the rest from one history read after them.
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(messageReads(backend)).toEqual([`GET /v1/chats/${CHAT}/messages?after=2&limit=100`]);
  });

  it('still fills a hole below what a subscribe ack brought', async () => {
    // Prepare: seq 1 held; 2 and 3 stored, but only 3 is pushed (the socket missed 2).
    const { backend, client, seen } = setup();
    backend.ackMessages = 50;
    backend.store(1);
    await client.connect();
    await client.subscribe(CHAT);
    backend.store(1);
    backend.publish();
    await until(() => seen.length >= 3, 'seq 3');

    // Act: reconnect; the ack brings 4, stored meanwhile.
    backend.socket.drop();
    backend.store(1);
    await until(() => seen.length >= 4, 'seq 4');

    // Assess
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(messageReads(backend)).toEqual([`GET /v1/chats/${CHAT}/messages?after=1&limit=100`]);
  });

  it('retries a failed catch-up with backoff until it succeeds', async () => {
    // Prepare: the first three history reads fail with 503.
    const { backend, client, seen } = setup();
    backend.store(3);
    backend.failNextMessageReads = 3;
    const errors: unknown[] = [];
    client.on('error', (error) => errors.push(error));
    await client.connect();

    // Act
    await client.subscribe(CHAT);

    // Assess
    expect(seen).toEqual([1, 2, 3]);
    expect(messageReads(backend)).toHaveLength(4);
    expect(errors).toHaveLength(3);
  });

  it('delivers a history subscribed from a given seq, without the older messages', async () => {
    // Prepare
    const { backend, client, seen } = setup();
    backend.store(5);
    await client.connect();

    // Act
    await client.subscribe(CHAT, { after: 3 });

    // Assess
    expect(seen).toEqual([4, 5]);
  });

  it('applies edits and deletes, typing, receipts and presence once each, for subscribed chats', async () => {
    // Prepare
    const { backend, client } = setup();
    backend.store(1);
    const updated: Message[] = [];
    const other: string[] = [];
    client.on('messageUpdated', (m) => updated.push(m));
    const note =
      <K extends keyof ChatEvents>(type: K) =>
      (value: ChatEvents[K]) =>
        other.push(`${type}:${JSON.stringify(value)}`);
    client.on('typing', note('typing'));
    client.on('receipt', note('receipt'));
    client.on('presence', note('presence'));
    await client.connect();
    await client.subscribe(CHAT);

    // Act: each envelope twice (at-least-once), and a presence change older than the last applied.
    const edit = backend.event(CHAT, 'message.updated', { ...message(1, 'edited'), editedAt: 'x' });
    const del = backend.event(CHAT, 'message.deleted', { ...message(1, ''), deletedAt: 'y' });
    const at = (s: number) => new Date(s * 1000).toISOString();
    const envelopes = [
      edit,
      del,
      {
        type: 'typing',
        id: 't1',
        chatId: CHAT,
        at: at(1),
        data: { userId: 'a', isTyping: true, expiresInMs: 5000 },
      },
      { type: 'receipt', id: 'r1', chatId: CHAT, at: at(1), data: { userId: 'a', seq: 1 } },
      {
        type: 'presence',
        id: 'p2',
        chatId: CHAT,
        at: at(2),
        data: { userId: 'a', role: 'agent', online: true },
      },
      {
        type: 'presence',
        id: 'p1',
        chatId: CHAT,
        at: at(1),
        data: { userId: 'a', role: 'agent', online: false },
      },
    ];
    for (const envelope of envelopes) backend.socket.deliver(envelope);
    backend.socket.deliver(edit);
    await until(() => other.length >= 3 && updated.length >= 2, 'the envelopes');
    backend.publish();
    await until(() => client.lastSeq(CHAT) === 2, 'a later message');

    // Assess
    expect(updated.map((m) => [m.text, m.deletedAt])).toEqual([
      ['edited', undefined],
      ['', 'y'],
    ]);
    expect(other).toEqual([
      `typing:${JSON.stringify({ chatId: CHAT, userId: 'a', isTyping: true, expiresInMs: 5000 })}`,
      `receipt:${JSON.stringify({ chatId: CHAT, userId: 'a', seq: 1 })}`,
      `presence:${JSON.stringify({ chatId: CHAT, userId: 'a', role: 'agent', online: true })}`,
    ]);
  });

  it('stops delivering a chat after unsubscribe', async () => {
    // Prepare
    const { backend, client, seen } = setup();
    await client.connect();
    await client.subscribe(CHAT);
    backend.publish();
    await until(() => seen.length === 1, 'seq 1');

    // Act
    await client.unsubscribe(CHAT);
    await until(() => backend.requests.includes(`WS unsubscribe ${CHAT}`), 'the unsubscribe frame');
    backend.socket.deliver(created(message(2)));
    backend.publish();
    await client.subscribe('ch_cccccccccccccccccccc');

    // Assess
    expect(seen).toEqual([1]);
    expect(client.lastSeq(CHAT)).toBeUndefined();
  });
});
