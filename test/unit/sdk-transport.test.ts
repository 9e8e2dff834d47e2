/**
 * Browser SDK transports: socket first, polling when the socket cannot open (failed opens, an open
 * timeout, a socket that never answers), the probe back to the socket, and the socket's own life
 * (missing pong, planned reconnect before the cap, close() racing a dial). Both modes emit the same
 * events, and nothing is lost or repeated across the switches.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient, ChatEvents } from '../../web/sdk/index.ts';
import {
  chat,
  CHAT,
  chatsOf,
  FakeBackend,
  makeClient,
  settled,
  type SocketMode,
  until,
} from './sdk-fakes.ts';

describe('browser SDK transports', () => {
  const clients: ChatClient[] = [];
  const setup = (backend = new FakeBackend(), options: Parameters<typeof makeClient>[1] = {}) => {
    const made = makeClient(backend, options);
    clients.push(made.client);
    return { backend, ...made };
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  it.each<[SocketMode, string]>([
    ['refuse', 'two failed opens'],
    ['hang', 'an open timeout'],
    ['mute', 'a socket that opens but never answers'],
  ])('falls back to polling after %s (%s) and still delivers every message once', async (mode) => {
    // Prepare: sockets fail that way; the probe is slow enough to stay polling during the test.
    const backend = new FakeBackend();
    backend.socketMode = mode;
    backend.store(2);
    const { client, seen, statuses } = setup(backend, { timing: { probeMs: 60_000 } });

    // Act
    await client.connect();
    await client.subscribe(CHAT);
    backend.publish();
    backend.publish();
    await until(() => seen.length >= 4, 'the polled messages');

    // Assess
    expect(client.status).toBe('polling');
    expect(statuses).toEqual(['connecting', 'polling']);
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(backend.live()).toEqual([]);
  });

  it('passes the polling cursors back: after, afterEvent and since', async () => {
    // Prepare: polling only; the chat has one event in its log already.
    const backend = new FakeBackend();
    backend.store(1);
    backend.event(CHAT, 'chat.updated', chat());
    const { client, seen } = setup(backend, { transport: 'polling' });
    const changes: string[] = [];
    client.on('chat', (change) => changes.push(change.type));

    // Act
    await client.connect();
    await client.subscribe(CHAT);
    backend.publish();
    backend.event(CHAT, 'chat.assigned', chat());
    backend.ephemeral.push({
      type: 'typing',
      id: 't1',
      chatId: CHAT,
      at: new Date().toISOString(),
      data: { userId: 'a', isTyping: true, expiresInMs: 5000 },
    });
    await until(() => seen.length === 2 && changes.length === 1, 'the second poll');
    const polls = backend.requests.filter((r) => r.includes('/events?'));
    await until(
      () => backend.requests.filter((r) => r.includes('/events?')).length > polls.length + 1,
      'more',
    );

    // Assess: started at the chat's event position, then each poll passed the last answer's cursors.
    const queries = backend.requests
      .filter((r) => r.includes('/events?'))
      .map((r) => Object.fromEntries(new URLSearchParams(r.split('?')[1])));
    expect(queries[0]).toEqual({ after: '0', afterEvent: '1', waitSeconds: '0' });
    expect(queries.at(-1)).toEqual({ after: '2', afterEvent: '2', waitSeconds: '0', since: '1' });
    expect(changes).toEqual(['chat.assigned']);
    expect(backend.sockets).toEqual([]);
  });

  it('probes the socket while polling and goes back to live with nothing lost or repeated', async () => {
    // Prepare: sockets are refused; the client is polling.
    const backend = new FakeBackend();
    backend.socketMode = 'refuse';
    const { client, seen, statuses } = setup(backend);
    await client.connect();
    await client.subscribe(CHAT);
    backend.publish();
    await until(() => seen.length === 1, 'a polled message');

    // Act: messages keep coming while the socket becomes reachable again.
    backend.socketMode = 'ok';
    for (let i = 0; i < 5; i++) backend.publish();
    await until(() => client.status === 'live', 'live again');
    for (let i = 0; i < 5; i++) backend.publish();
    await until(() => seen.length === 11, 'every message');

    // Assess
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(statuses).toEqual(['connecting', 'polling', 'live']);
    expect(backend.live()).toHaveLength(1);
    // The socket subscribed from the last seq polling delivered (its ack then named what was missing).
    const resubscribe = backend.socket.frames.find((frame) => frame.action === 'subscribe');
    expect(resubscribe && chatsOf(resubscribe)[0]?.after).toBeGreaterThanOrEqual(1);
  });

  it('reconnects when a ping gets no pong', async () => {
    // Prepare: pings every 20 ms; the server stops answering them.
    const backend = new FakeBackend();
    const { client } = setup(backend, { timing: { pingMs: 20, requestTimeoutMs: 30 } });
    await client.connect();
    await client.subscribe(CHAT);
    const first = backend.socket;

    // Act
    backend.answerPings = false;
    await until(() => backend.sockets.length === 2 && backend.socket.isOpen, 'a second socket');
    backend.answerPings = true;
    backend.publish();
    await until(() => client.lastSeq(CHAT) === 1, 'a message on the new socket');

    // Assess
    expect(first.closed).toBe(true);
    expect(first.frames.some((frame) => frame.action === 'ping')).toBe(true);
    expect(backend.live()).toHaveLength(1);
  });

  it('reconnects on plan before the connection cap, catching up what came in between', async () => {
    // Prepare: connections are replaced after 50 ms.
    const backend = new FakeBackend();
    const { client, seen } = setup(backend, { timing: { maxConnectionMs: 50 } });
    await client.connect();
    await client.subscribe(CHAT);

    // Act
    await until(() => backend.sockets.length >= 3, 'two planned reconnects');
    backend.publish();
    await until(() => seen.length === 1, 'a message after the reconnects');

    // Assess
    expect(backend.live()).toHaveLength(1);
    expect(backend.sockets.slice(0, -1).every((socket) => socket.closed)).toBe(true);
    expect(client.status).toBe('live');
  });

  it('leaves no socket when close() races a dial in flight', async () => {
    // Prepare: the ticket request is held until released.
    const backend = new FakeBackend();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      if (String(input).endsWith('/v1/realtime/tickets')) await held;
      return backend.fetch(input, init);
    }) as typeof globalThis.fetch;
    const { client, statuses } = setup(backend, { fetch });

    // Act: connect, close while the ticket is in flight, then let the ticket arrive.
    void client.connect().catch(() => {});
    await until(() => backend.requests.length === 0 && statuses.includes('connecting'), 'the dial');
    client.close();
    release();
    await until(() => backend.tickets === 1, 'the ticket answer');
    await settled(backend);

    // Assess
    expect(backend.sockets).toEqual([]);
    expect(statuses).toEqual(['connecting', 'closed']);
  });

  it('keeps exactly one socket through drops racing reconnects and close()', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { client } = setup(backend);
    await client.connect();

    // Act: the server drops each socket as soon as it opens, several times; then the client closes.
    for (let i = 0; i < 4; i++) {
      await until(() => backend.live().length === 1, 'an open socket');
      expect(backend.live()).toHaveLength(1);
      backend.socket.drop();
    }
    await until(() => backend.live().length === 1, 'an open socket');
    client.close();
    await settled(backend);

    // Assess
    expect(backend.live()).toEqual([]);
    expect(backend.sockets.filter((socket) => !socket.closed)).toEqual([]);
  });

  it.each(['socket', 'polling'] as const)(
    'emits the same chats events for watchChats over the %s',
    async (transport) => {
      // Prepare
      const backend = new FakeBackend();
      const { client } = setup(backend, { transport });
      const events: ChatEvents['chats'][] = [];
      client.on('chats', (change) => events.push(change));
      await client.connect();

      // Act: watch, then three changes (one leaves the filter); the socket repeats one.
      client.watchChats({ status: 'open' });
      if (transport === 'socket') await until(() => backend.socket.watching, 'the watch');
      else await until(() => backend.requests.some((r) => r.startsWith('GET /v1/chats/changes')), 'a poll');
      backend.change('chat.created', chat(CHAT));
      const second = backend.change('chat.assigned', chat(CHAT, { assignee: 'agent-1' }));
      backend.change('chat.closed', chat(CHAT, { status: 'closed' }), true);
      if (transport === 'socket') backend.socket.deliver(second);
      await until(() => events.length >= 3, 'three changes');

      // Assess
      expect(events.map((e) => [e.type, e.chat.chatId, e.leftFilter])).toEqual([
        ['chat.created', CHAT, false],
        ['chat.assigned', CHAT, false],
        ['chat.closed', CHAT, true],
      ]);
    },
  );
  it("emits presence of a chat it does not subscribe to while it watches a list (that chat's customer)", async () => {
    // Prepare: a socket, no subscription.
    const backend = new FakeBackend();
    const { client } = setup(backend);
    const presence: boolean[] = [];
    client.on('presence', (change) => presence.push(change.online));
    await client.connect();
    const envelope = (second: number, online: boolean) => ({
      type: 'presence',
      id: `${CHAT}:presence:visitor-1:p${second}`,
      chatId: CHAT,
      at: new Date(second * 1000).toISOString(),
      data: { userId: 'visitor-1', role: 'visitor', online },
    });

    // Act: one before the watch, one during it, one after unwatching, one during a second watch.
    backend.socket.deliver(envelope(1, true));
    await settled(backend);
    const unwatch = client.watchChats({ status: 'open' });
    await until(() => backend.socket.watching, 'the watch');
    backend.socket.deliver(envelope(2, false));
    await until(() => presence.length >= 1, 'the first presence');
    unwatch();
    backend.socket.deliver(envelope(3, true));
    await settled(backend);
    client.watchChats({ status: 'open' });
    backend.socket.deliver(envelope(4, true));
    await until(() => presence.length >= 2, 'the second presence');

    // Assess: only the ones that came while watching.
    expect(presence).toEqual([false, true]);
  });

  it('reports a change of a subscribed, watched chat once as chat, and its leftFilter copy to chats', async () => {
    // Prepare: subscribed to the chat and watching a list.
    const backend = new FakeBackend();
    const { client } = setup(backend);
    const lists: boolean[] = [];
    const chats: string[] = [];
    client.on('chats', (change) => lists.push(change.leftFilter));
    client.on('chat', (change) => chats.push(change.type));
    await client.connect();
    await client.subscribe(CHAT);
    client.watchChats({ status: 'open' });
    await until(() => backend.socket.watching, 'the watch');

    // Act: the subscription copy, then the watch copy (same id) saying the chat left the filter.
    const closed = backend.event(CHAT, 'chat.closed', chat(CHAT, { status: 'closed' }));
    backend.socket.deliver({ ...closed, leftFilter: true });
    backend.socket.deliver({ ...closed, leftFilter: true });
    await until(() => lists.length >= 2, 'both copies');
    backend.publish();
    await until(() => client.lastSeq(CHAT) === 1, 'a later message');

    // Assess
    expect(lists).toEqual([false, true]);
    expect(chats).toEqual(['chat.closed']);
  });
});
