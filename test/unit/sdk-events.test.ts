/**
 * Browser SDK chat events (chat.updated / closed / assigned, message.updated / deleted, receipt): the
 * ones committed while the socket was down are caught up after the subscribe ack (GET …/events?
 * afterEvent=) and emitted once; a first subscribe starts at the ack's lastEventSeq; a switch between
 * polling and the socket keeps the event cursor.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ChatClient, ChatEvents, Message } from '../../web/sdk/index.ts';
import {
  CHAT,
  chat,
  channelBus,
  FakeBackend,
  FakeLocks,
  makeClient,
  memoryStorage,
  message,
  settled,
  until,
} from './sdk-fakes.ts';

/** The event log reads (GET …/events) made after request index `from`, as their query parameters. */
const eventReads = (backend: FakeBackend, from = 0) =>
  backend.requests
    .slice(from)
    .filter((r) => r.startsWith(`GET /v1/chats/${CHAT}/events?`))
    .map((r) => Object.fromEntries(new URLSearchParams(r.split('?')[1])));

describe('browser SDK chat events', () => {
  const clients: ChatClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  /** A client recording the chat events it emits, as `type` or `type:text`. */
  const setup = (backend: FakeBackend, options: Parameters<typeof makeClient>[1] = {}) => {
    const made = makeClient(backend, options);
    clients.push(made.client);
    const applied: string[] = [];
    made.client.on('chat', (e: ChatEvents['chat']) => applied.push(`${e.type}:${e.chat.status}`));
    made.client.on('messageUpdated', (m: Message) => applied.push(`message.updated:${m.text}`));
    made.client.on('receipt', (r: ChatEvents['receipt']) => applied.push(`receipt:${r.seq}`));
    return { ...made, applied };
  };

  const closed = () => chat(CHAT, { status: 'closed' });

  /** `count` tabs of one visitor sharing a socket (the same storage key, channel and locks). */
  const tabs = (backend: FakeBackend, count: number) => {
    const shared = { BroadcastChannel: channelBus(), locks: new FakeLocks(), storage: memoryStorage() };
    return Array.from({ length: count }, () => setup(backend, { tabs: true, storageKey: 'k', ...shared }));
  };

  it('delivers a chat closed and a message edited while the socket was down once each after the reconnect', async () => {
    // Prepare: live on one message; one event applied live.
    const backend = new FakeBackend();
    backend.store(1);
    const { client, applied } = setup(backend);
    await client.connect();
    await client.subscribe(CHAT);
    backend.event(CHAT, 'chat.updated', chat(CHAT));
    await until(() => applied.length === 1, 'the live event');

    // Act: the socket drops; the message is edited and the chat closed before it reconnects.
    backend.socket.drop();
    backend.event(CHAT, 'message.updated', message(1, 'edited'));
    backend.event(CHAT, 'chat.closed', closed());
    await until(() => applied.length >= 3, 'the missed events');
    await settled(backend);

    // Assess
    expect(applied).toEqual(['chat.updated:open', 'message.updated:edited', 'chat.closed:closed']);
    expect(eventReads(backend)).toEqual([{ after: '1', afterEvent: '1' }]);
    expect(backend.sockets).toHaveLength(2);
  });

  it('does not replay old events on a first subscribe, and emits the next live one', async () => {
    // Prepare: the chat was closed and reopened before this client subscribes.
    const backend = new FakeBackend();
    backend.event(CHAT, 'chat.closed', closed());
    backend.event(CHAT, 'chat.updated', chat(CHAT));
    const { client, applied } = setup(backend);
    await client.connect();

    // Act
    await client.subscribe(CHAT);
    backend.event(CHAT, 'receipt', { userId: 'u_agent', seq: 0 });
    await until(() => applied.length >= 1, 'the live receipt');
    await settled(backend);

    // Assess
    expect(applied).toEqual(['receipt:0']);
    expect(eventReads(backend)).toEqual([]);
  });

  it('emits an event once when it is both pushed live and returned by the catch-up', async () => {
    // Prepare: subscribed and live; the socket drops and the chat is closed meanwhile.
    const backend = new FakeBackend();
    const { client, applied } = setup(backend);
    await client.connect();
    await client.subscribe(CHAT);
    backend.socket.drop();
    const missed = backend.event(CHAT, 'chat.closed', closed());
    await until(() => eventReads(backend).length === 1 && applied.length === 1, 'the catch-up');

    // Act: the stream redelivers the close to the new socket (at-least-once), then a new event comes.
    backend.socket.deliver(missed);
    backend.event(CHAT, 'chat.updated', chat(CHAT));
    await until(() => applied.length >= 2, 'the new event');
    await settled(backend);

    // Assess
    expect(applied).toEqual(['chat.closed:closed', 'chat.updated:open']);
  });

  it('fetches the missing events before one that arrives above a hole, and applies them in order', async () => {
    // Prepare
    const backend = new FakeBackend();
    backend.store(1);
    const { client, applied } = setup(backend);
    await client.connect();
    await client.subscribe(CHAT);

    // Act: event 1 never reaches the socket; event 2 does.
    const live = backend.socket;
    live.subscribed.delete(CHAT);
    backend.event(CHAT, 'message.updated', message(1, 'edited'));
    live.subscribed.add(CHAT);
    backend.event(CHAT, 'chat.closed', closed());
    await until(() => applied.length >= 2, 'both events');
    await settled(backend);

    // Assess
    expect(applied).toEqual(['message.updated:edited', 'chat.closed:closed']);
    expect(eventReads(backend)).toEqual([{ after: '1', afterEvent: '0' }]);
  });

  it('keeps the event cursor through a switch from polling to the socket: nothing lost or repeated', async () => {
    // Prepare: sockets are refused, so the client polls; one event arrives by poll.
    const backend = new FakeBackend();
    backend.socketMode = 'refuse';
    const { client, applied } = setup(backend, { timing: { probeMs: 20 } });
    await client.connect();
    await client.subscribe(CHAT);
    backend.event(CHAT, 'chat.updated', chat(CHAT));
    await until(() => applied.length === 1, 'the polled event');

    // Act: the socket becomes reachable; one event is committed around the switch, one after it.
    backend.socketMode = 'ok';
    backend.event(CHAT, 'chat.closed', closed());
    await until(() => client.status === 'live', 'live');
    const switched = backend.requests.lastIndexOf(`WS subscribe ${CHAT}`);
    backend.event(CHAT, 'chat.updated', chat(CHAT, { status: 'open' }));
    await until(() => applied.length >= 3, 'every event');
    await settled(backend);

    // Assess
    expect(applied).toEqual(['chat.updated:open', 'chat.closed:closed', 'chat.updated:open']);
    for (const read of eventReads(backend, switched))
      expect(Number(read.afterEvent)).toBeGreaterThanOrEqual(1);
  });

  it('catches up the events of an outage from the ack position when it falls back to polling', async () => {
    // Prepare: live, with the ack's lastEventSeq (1) as the baseline.
    const backend = new FakeBackend();
    backend.event(CHAT, 'chat.updated', chat(CHAT));
    const { client, applied, statuses } = setup(backend, { timing: { probeMs: 60_000 } });
    await client.connect();
    await client.subscribe(CHAT);

    // Act: the socket drops for good; the chat is closed before the client polls.
    backend.socketMode = 'refuse';
    backend.socket.drop();
    backend.event(CHAT, 'chat.closed', closed());
    await until(() => applied.length >= 1, 'the close');
    await settled(backend);

    // Assess
    expect(applied).toEqual(['chat.closed:closed']);
    expect(statuses.at(-1)).toBe('polling');
    expect(eventReads(backend)[0]).toMatchObject({ afterEvent: '1' });
    expect(backend.requests).not.toContain(`GET /v1/chats/${CHAT}`);
  });

  it('gives every tab the events committed during a leader handover, once each', async () => {
    // Prepare: three tabs on one socket; one event applied live by all.
    const backend = new FakeBackend();
    const [leader, next, follower] = tabs(backend, 3);
    if (!leader || !next || !follower) throw new Error('three tabs');
    for (const tab of [leader, next, follower]) await tab.client.connect();
    for (const tab of [leader, next, follower]) await tab.client.subscribe(CHAT);
    backend.event(CHAT, 'chat.updated', chat(CHAT));
    await until(() => next.applied.length === 1 && follower.applied.length === 1, 'the live event');

    // Act: the leader tab closes; the chat is closed before the new leader's socket subscribes.
    leader.client.close();
    backend.event(CHAT, 'chat.closed', closed());
    await until(() => next.applied.length >= 2 && follower.applied.length >= 2, 'the missed close');
    await settled(backend);

    // Assess
    expect(next.applied).toEqual(['chat.updated:open', 'chat.closed:closed']);
    expect(follower.applied).toEqual(['chat.updated:open', 'chat.closed:closed']);
    expect(backend.live()).toHaveLength(1);
  });
});
