/**
 * Browser SDK tabs, with an in-memory BroadcastChannel and Web Locks: one leader holds the only
 * socket and relays every envelope and the status; followers see the same messages; closing the
 * leader hands over to another tab without losing or repeating a message. Without Web Locks a
 * heartbeat elects one leader.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient } from '../../web/sdk/index.ts';
import {
  CHAT,
  channelBus,
  FakeBackend,
  FakeLocks,
  makeClient,
  memoryStorage,
  OTHER_CHAT,
  until,
} from './sdk-fakes.ts';

describe('browser SDK tabs', () => {
  const clients: ChatClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  /** `count` tabs of one visitor: the same storage key, channel and locks. */
  const tabs = (backend: FakeBackend, count: number, locks: FakeLocks | null = new FakeLocks()) => {
    const BroadcastChannel = channelBus();
    const storage = memoryStorage();
    return Array.from({ length: count }, () => {
      const made = makeClient(backend, {
        tabs: true,
        storageKey: 'chat:demo:v_1',
        storage,
        BroadcastChannel,
        locks,
      });
      clients.push(made.client);
      return made;
    });
  };

  /** Two connected tabs following CHAT, after a first published message. */
  const twoTabsOnChat = async (backend: FakeBackend) => {
    const [leader, follower] = tabs(backend, 2);
    if (!leader || !follower) throw new Error('two tabs');
    await Promise.all([leader.client.connect(), follower.client.connect()]);
    await Promise.all([leader.client.subscribe(CHAT), follower.client.subscribe(CHAT)]);
    backend.publish();
    return { leader, follower };
  };

  it('opens one socket for two tabs, and both see every message once, in order', async () => {
    // Prepare
    const backend = new FakeBackend();
    backend.store(2);
    const [leader, follower] = tabs(backend, 2);
    if (!leader || !follower) throw new Error('two tabs');

    // Act
    await Promise.all([leader.client.connect(), follower.client.connect()]);
    await Promise.all([leader.client.subscribe(CHAT), follower.client.subscribe(OTHER_CHAT)]);
    await follower.client.subscribe(CHAT);
    await until(() => backend.socket.subscribed.has(OTHER_CHAT), "the follower's other chat on the socket");
    backend.publish();
    backend.publish(OTHER_CHAT);
    await until(() => leader.seen.length === 3 && follower.seen.length === 4, 'the live messages');

    // Assess
    expect(backend.sockets).toHaveLength(1);
    expect(leader.seen).toEqual([1, 2, 3]);
    expect(follower.seenIn).toEqual({ [CHAT]: [1, 2, 3], [OTHER_CHAT]: [1] });
    expect([leader.client.status, follower.client.status]).toEqual(['live', 'live']);
  });

  it('hands over to another tab when the leader closes, losing and repeating nothing', async () => {
    // Prepare
    const backend = new FakeBackend();
    const { leader, follower } = await twoTabsOnChat(backend);
    await until(() => follower.seen.length === 1, 'the first message');

    // Act: the leader tab closes; messages are stored before and after the new socket.
    leader.client.close();
    backend.store(2);
    await until(() => backend.live().length === 1, "the new leader's socket");
    backend.publish();
    await until(() => follower.seen.length === 4, 'every message');

    // Assess
    expect(follower.seen).toEqual([1, 2, 3, 4]);
    expect(backend.sockets).toHaveLength(2);
    expect(backend.sockets[0]?.closed).toBe(true);
    expect(follower.client.status).toBe('live');
  });

  it('shows a message the leader sends over its socket in the follower tab at once, though the server does not echo it', async () => {
    // Prepare: both tabs settled on a first message
    const backend = new FakeBackend();
    const { leader, follower } = await twoTabsOnChat(backend);
    await until(() => leader.seen.length === 1 && follower.seen.length === 1, 'the first message');
    await until(() => backend.inFlight === 0, 'the catch-ups');
    const before = backend.requests.length;

    // Act: the leader tab sends over the socket; then the follower tab sends (over HTTP: it has no
    // socket, and every socket hears about an HTTP send)
    const sent = await leader.client.send(CHAT, 'from the leader');
    await until(() => follower.seen.length === 2, 'the leader tab message in the follower tab');
    const fetched = backend.requests.slice(before).filter((request) => request.startsWith('GET'));
    await follower.client.send(CHAT, 'from the follower');
    await until(() => leader.seen.length === 3 && follower.seen.length === 3, 'both messages in both tabs');

    // Assess
    expect(sent.seq).toBe(2);
    expect(fetched).toEqual([]); // relayed by the leader, not fetched by a catch-up
    expect(backend.requests.filter((r) => r.startsWith('WS sendMessage'))).toHaveLength(1);
    expect(leader.seen).toEqual([1, 2, 3]);
    expect(follower.seen).toEqual([1, 2, 3]);
  });

  it('relays the polling status and polled messages to the follower tabs', async () => {
    // Prepare: sockets are refused, so the leader polls.
    const backend = new FakeBackend();
    backend.socketMode = 'refuse';
    const [leader, follower] = tabs(backend, 2);
    if (!leader || !follower) throw new Error('two tabs');

    // Act
    await Promise.all([leader.client.connect(), follower.client.connect()]);
    await follower.client.subscribe(CHAT);
    backend.publish();
    await until(() => follower.seen.length === 1, 'a polled message');

    // Assess
    expect(follower.client.status).toBe('polling');
    expect(leader.seen).toEqual([]);
    expect(backend.requests.some((r) => r.includes(`/v1/chats/${CHAT}/events?`))).toBe(true);
  });

  it('elects exactly one leader by heartbeat when Web Locks are missing', async () => {
    // Prepare
    const backend = new FakeBackend();
    const all = tabs(backend, 3, null);

    // Act
    await Promise.all(all.map(({ client }) => client.connect()));
    await until(() => all.every(({ client }) => client.status === 'live'), 'every tab live');
    await Promise.all(all.map(({ client }) => client.subscribe(CHAT)));
    backend.publish();
    await until(() => all.every(({ seen }) => seen.length === 1), 'the message in every tab');

    // Assess
    expect(backend.live()).toHaveLength(1);
  });
});
