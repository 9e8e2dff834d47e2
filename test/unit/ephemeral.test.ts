/**
 * Typing and presence for pollers (shared/domain/ephemeral.ts): the `since` cursor, what a poll selects,
 * presence envelopes built from stored transitions (the same as the socket push), and the merge into
 * GET /v1/chats/{chatId}/events. Fakes only, no AWS.
 */
import { describe, expect, it } from 'vitest';
import { ChatService } from '../../shared/domain/chats.ts';
import {
  EPHEMERAL_DEFAULTS,
  type EphemeralPorts,
  EphemeralFeed,
  type EphemeralSource,
  formatSince,
  parseSince,
  presenceEnvelope,
  SEEN_MAX,
  seenKey,
  selectEphemeral,
  type SinceCursor,
  type TypingEnvelope,
} from '../../shared/domain/ephemeral.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import type {
  AttachmentStore,
  ChatEventRecord,
  ChatStore,
  ConnectionRecord,
  ConnectionStore,
  MessageStore,
  PresenceStore,
  PresenceTransition,
  Pusher,
  TicketStore,
} from '../../shared/domain/ports.ts';
import { ConnectionService } from '../../shared/domain/connections.ts';
import { RealtimeService } from '../../shared/domain/realtime.ts';
import {
  type ChatRecord,
  type Envelope,
  type Message,
  pollEventsQuery,
} from '../../shared/domain/schemas.ts';
import { typingEnvelope } from '../../shared/domain/typing.ts';

const chatId = 'ch_aaaaaaaaaaaaaaaaaaaa';
const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const alice: Identity = { tenantId: 'acme', userId: 'alice', role: 'user' };
const bob: Identity = { tenantId: 'acme', userId: 'bob', role: 'user' };
const chat = { chatId, tenantId: 'acme' };
const config = { windowMs: 5000, overlapMs: 2000 };

const typed = (who: Identity, atMs: number, isTyping = true): TypingEnvelope =>
  typingEnvelope(who, chat, isTyping, new Date(atMs));
const transition = (userId: string, atMs: number, online: boolean, id = `p_${atMs}`): PresenceTransition => ({
  userId,
  role: 'user',
  online,
  at: iso(atMs),
  id,
});
const typingSource = (readAt: number, envelopes: Envelope[]): EphemeralSource => ({
  readAt,
  maxAgeMs: 5000,
  envelopes,
});
const presenceSource = (readAt: number, transitions: PresenceTransition[]): EphemeralSource => ({
  readAt,
  maxAgeMs: 60_000,
  envelopes: transitions.map((t) => presenceEnvelope(chatId, 'acme', t)),
});

describe('presenceEnvelope', () => {
  it('builds the same envelope from the same transition, with an id unique per transition', () => {
    // Prepare: two transitions of one user in the same millisecond (two tabs racing)
    const on = transition('bob', T0, true, 'p_one');
    const off = transition('bob', T0, false, 'p_two');

    // Act
    const first = presenceEnvelope(chatId, 'acme', on);
    const again = presenceEnvelope(chatId, 'acme', { ...on });
    const other = presenceEnvelope(chatId, 'acme', off);

    // Assess
    expect(first).toEqual({
      type: 'presence',
      id: `${chatId}:presence:bob:p_one`,
      tenantId: 'acme',
      chatId,
      at: iso(T0),
      data: { userId: 'bob', role: 'user', online: true },
    });
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    expect(other.id).not.toBe(first.id);
  });
});

describe('the since cursor', () => {
  it('round-trips and is accepted by the query schema; junk is refused', () => {
    // Prepare
    const cursor: SinceCursor = { floor: T0, seen: [seenKey('a'), seenKey('b')] };

    // Act
    const text = formatSince(cursor);
    const parsed = parseSince(text);
    const accepted = pollEventsQuery.safeParse({ since: text });
    const refused = ['abc', `${T0}.short`, `${T0}.${'x'.repeat(8)}.`, `-1`].map(
      (since) => pollEventsQuery.safeParse({ since }).success,
    );

    // Assess
    expect(parsed).toEqual(cursor);
    expect(accepted.success).toBe(true);
    expect(refused).toEqual([false, false, false, false]);
  });
});

describe('selectEphemeral', () => {
  it('without a cursor returns what is current: other users’ typing and presence of the last 5 s, oldest first', () => {
    // Prepare
    const now = T0 + 10_000;
    const fresh = typed(bob, now - 1000);
    const stale = typed(bob, now - 6000, false);
    const own = typed(alice, now - 500);
    const online = transition('bob', now - 2000, true);
    const ownPresence = transition('alice', now - 100, true);
    const oldPresence = transition('carol', now - 5001, false);

    // Act
    const { items, next } = selectEphemeral(
      [typingSource(now, [fresh, stale, own]), presenceSource(now, [online, ownPresence, oldPresence])],
      undefined,
      'alice',
      config,
    );

    // Assess
    expect(items).toEqual([presenceEnvelope(chatId, 'acme', online), fresh]);
    expect(next.floor).toBe(now - 2000);
    expect(next.seen).toEqual([seenKey(fresh.id)]);
  });

  it('does not return an envelope again with the cursor it issued, and returns a newer one', () => {
    // Prepare
    const now = T0 + 10_000;
    const first = typed(bob, now - 100);
    const { next } = selectEphemeral([typingSource(now, [first])], undefined, 'alice', config);
    const later = typed(bob, now + 1500, false);

    // Act
    const again = selectEphemeral([typingSource(now + 500, [first])], next, 'alice', config);
    const newer = selectEphemeral([typingSource(now + 2000, [first, later])], again.next, 'alice', config);

    // Assess
    expect(again.items).toEqual([]);
    expect(newer.items).toEqual([later]);
    // `first` is now below the floor (excluded by it), so the cursor no longer needs its key
    expect(newer.next).toEqual({ floor: now, seen: [seenKey(later.id)] });
    expect(
      selectEphemeral([typingSource(now + 2500, [first, later])], newer.next, 'alice', config).items,
    ).toEqual([]);
  });

  it('returns an envelope stamped before the previous read but visible only after it (the overlap)', () => {
    // Prepare: the write was stamped 300 ms before the first read but not yet visible to it
    const now = T0 + 10_000;
    const inFlight = typed(bob, now - 300);
    const { items: before, next } = selectEphemeral([typingSource(now, [])], undefined, 'alice', config);

    // Act
    const { items } = selectEphemeral([typingSource(now + 500, [inFlight])], next, 'alice', config);

    // Assess
    expect(before).toEqual([]);
    expect(items).toEqual([inFlight]);
  });

  it('with a cursor keeps presence up to a minute old but never typing older than 5 s', () => {
    // Prepare: the cursor's floor is 30 s old (a poller that paused)
    const now = T0 + 60_000;
    const cursor: SinceCursor = { floor: now - 30_000, seen: [] };
    const offline = transition('bob', now - 20_000, false);
    const expired = typed(bob, now - 6000);

    // Act
    const { items } = selectEphemeral(
      [typingSource(now, [expired]), presenceSource(now, [offline])],
      cursor,
      'alice',
      config,
    );

    // Assess
    expect(items).toEqual([presenceEnvelope(chatId, 'acme', offline)]);
  });

  it('keeps at most SEEN_MAX keys by raising the floor, and still never repeats an envelope', () => {
    // Prepare: more typing records in the overlap window than a cursor holds
    const now = T0 + 10_000;
    const users = Array.from({ length: SEEN_MAX + 20 }, (_, i) => ({ ...bob, userId: `u${i}` }));
    const envelopes = users.map((user, i) => typed(user, now - 1900 + i));
    const first = selectEphemeral([typingSource(now, envelopes)], undefined, 'alice', config);

    // Act
    const second = selectEphemeral([typingSource(now + 100, envelopes)], first.next, 'alice', config);

    // Assess
    expect(first.items).toHaveLength(SEEN_MAX + 20);
    expect(first.next.seen).toHaveLength(SEEN_MAX);
    expect(first.next.floor).toBe(now - 1900 + 19);
    expect(second.items).toEqual([]);
    expect(pollEventsQuery.safeParse({ since: formatSince(first.next) }).success).toBe(true);
  });
});

/** Fake ports whose state a test changes; counts the reads. */
const fakePorts = (start: number) => {
  const state = {
    now: start,
    typing: [] as TypingEnvelope[],
    participants: ['alice', 'bob', 'carol'],
    transitions: [] as PresenceTransition[],
    reads: { typing: 0, participants: 0, transitions: 0 },
    asked: [] as string[][],
  };
  const ports: EphemeralPorts = {
    typing: async () => {
      state.reads.typing++;
      return [...state.typing];
    },
    participants: async () => {
      state.reads.participants++;
      return state.participants;
    },
    transitions: async (_tenantId, userIds) => {
      state.reads.transitions++;
      state.asked.push([...userIds]);
      return state.transitions.filter((t) => userIds.includes(t.userId));
    },
    clock: { now: () => new Date(state.now) },
  };
  return { state, ports };
};

describe('EphemeralReader', () => {
  it('reads typing on every call, participants once, presence again only after presenceRefreshMs', async () => {
    // Prepare
    const { state, ports } = fakePorts(T0);
    const reader = new EphemeralFeed(ports).reader(alice, chatId);

    // Act
    await reader.read();
    state.now += 1000;
    state.transitions = [transition('bob', state.now, true)];
    const cached = await reader.read();
    // presenceRefreshMs after the first presence read (not after the previous call)
    state.now += EPHEMERAL_DEFAULTS.presenceRefreshMs - 1000;
    const refreshed = await reader.read();

    // Assess
    expect(state.reads).toEqual({ typing: 3, participants: 1, transitions: 2 });
    expect(state.asked).toEqual([
      ['bob', 'carol'],
      ['bob', 'carol'],
    ]);
    expect(cached.items).toEqual([]);
    expect(refreshed.items).toEqual([
      presenceEnvelope(chatId, 'acme', state.transitions[0] as PresenceTransition),
    ]);
  });

  it('reads presence for at most maxParticipants other participants', async () => {
    // Prepare
    const { state, ports } = fakePorts(T0);
    state.participants = Array.from({ length: 150 }, (_, i) => `user${i}`);
    const reader = new EphemeralFeed(ports, { ...EPHEMERAL_DEFAULTS, maxParticipants: 100 }).reader(
      alice,
      chatId,
    );

    // Act
    await reader.read();

    // Assess
    expect(state.asked[0]).toHaveLength(100);
  });
});

/** Connections and realtime delivery over in-memory fakes whose presence store behaves like the DynamoDB one. */
const realtimeWith = (now: () => number) => {
  const pushed: { connectionId: string; envelope: Envelope }[] = [];
  const counts = new Map<string, number>();
  const stored = new Map<string, PresenceTransition>();
  const presence: PresenceStore = {
    open: async (_tenantId, t) => {
      const count = (counts.get(t.userId) ?? 0) + 1;
      counts.set(t.userId, count);
      if (count === 1) stored.set(t.userId, t);
      return count === 1;
    },
    close: async (_tenantId, t) => {
      const count = counts.get(t.userId) ?? 0;
      if (count < 1) return false;
      counts.set(t.userId, count - 1);
      if (count === 1) stored.set(t.userId, t);
      return count === 1;
    },
    online: async () => new Set(),
    sockets: async () => new Map(),
    transitions: async (_tenantId, userIds) =>
      userIds.flatMap((userId) => {
        const last = stored.get(userId);
        return last ? [last] : [];
      }),
  };
  const connections = new Map<string, ConnectionRecord>();
  const connectionStore = {
    put: async (c: ConnectionRecord) => void connections.set(c.connectionId, c),
    remove: async (id: string) => {
      const c = connections.get(id);
      connections.delete(id);
      return c;
    },
    subscriberUsers: async () => [{ connectionId: 'alice-1' }],
    watchers: async () => [],
  } as unknown as ConnectionStore;
  const realtime = new RealtimeService(
    connectionStore,
    { forget: async () => {} },
    {
      listForParticipant: async () => ({ items: [{ chatId } as ChatRecord] }),
    } as unknown as ChatStore,
    {
      post: async (connectionId: string, body: string) => {
        pushed.push({ connectionId, envelope: JSON.parse(body) as Envelope });
        return 'delivered';
      },
    } as Pusher,
    { fanoutConcurrency: 4 },
  );
  /** The table stream: a stored transition reaches the presence consumer, which announces it. */
  const streamed: PresenceStore = {
    ...presence,
    open: async (tenantId, t, expiresAt, connectionId) => {
      const changed = await presence.open(tenantId, t, expiresAt, connectionId);
      if (changed) await realtime.announcePresence(tenantId, t);
      return changed;
    },
    close: async (tenantId, t, connectionId) => {
      const changed = await presence.close(tenantId, t, connectionId);
      if (changed) await realtime.announcePresence(tenantId, t);
      return changed;
    },
  };
  /** Tickets are consumed by connect(): each names the identity of the socket being opened. */
  let opening: Identity = bob;
  const tickets: TicketStore = { put: async () => {}, consume: async () => opening };
  const sessions = new ConnectionService(
    tickets,
    connectionStore,
    { now: () => new Date(now()) },
    { ticketTtlSeconds: 60, connectionTtlSeconds: 8100, publicUrl: 'ws://x' },
    streamed,
  );
  const open = async (connectionId: string, identity: Identity) => {
    opening = identity;
    await sessions.connect(connectionId, 'ticket');
  };
  return { sessions, pushed, presence, open };
};

describe('presence: the socket push and the poll carry the same envelope', () => {
  it('pushes once per transition (tabs count as one) exactly what a poller then reads', async () => {
    // Prepare
    let now = T0;
    const { sessions, pushed, presence, open } = realtimeWith(() => now);
    const feed = new EphemeralFeed({
      typing: async () => [],
      participants: async () => ['alice', 'bob'],
      transitions: (tenantId, userIds) => presence.transitions(tenantId, userIds),
      clock: { now: () => new Date(now) },
    });
    const poll = async (since?: string) => feed.reader(alice, chatId, since).read();
    const start = await poll();

    // Act: bob opens two tabs, a poll, bob closes both, a poll
    now += 100;
    await open('bob-1', bob);
    now += 100;
    await open('bob-2', bob);
    const afterOpen = await poll(start.nextSince);
    now += 100;
    await sessions.disconnect('bob-1');
    now += 100;
    await sessions.disconnect('bob-2');
    const afterClose = await poll(afterOpen.nextSince);
    const repeated = await poll(afterClose.nextSince);

    // Assess
    const presencePushes = pushed.map((p) => p.envelope).filter((e) => e.type === 'presence');
    expect(presencePushes.map((e) => (e.data as { online: boolean }).online)).toEqual([true, false]);
    expect(afterOpen.items).toEqual([presencePushes[0]]);
    expect(afterClose.items).toEqual([presencePushes[1]]);
    expect(JSON.stringify(afterClose.items[0])).toBe(JSON.stringify(presencePushes[1]));
    expect(repeated.items).toEqual([]);
  });
});

describe('ChatService.events with typing and presence', () => {
  const message = (seq: number, atMs: number): Message =>
    ({ chatId, tenantId: 'acme', seq, messageId: `m_aaaaaaaaaaaa_${seq}`, createdAt: iso(atMs) }) as Message;
  const receipt = (eventSeq: number, atMs: number): ChatEventRecord => ({
    chatId,
    tenantId: 'acme',
    eventSeq,
    at: iso(atMs),
    actorId: 'bob',
    type: 'receipt',
    data: { userId: 'bob', seq: 1 },
  });

  const service = (state: ReturnType<typeof fakePorts>['state'], ports: EphemeralPorts) => {
    const stored = { messages: [] as Message[], events: [] as ChatEventRecord[] };
    const chats = {
      get: async () => ({ chatId, tenantId: 'acme' }) as ChatRecord,
      access: async () => ({ chat: { chatId, tenantId: 'acme' } as ChatRecord, member: true }),
      eventsAfter: async (_id: string, after: number) => ({
        items: stored.events.filter((e) => e.eventSeq > after),
        hasMore: false,
      }),
    } as unknown as ChatStore;
    const messages = {
      after: async (_id: string, after: number) => ({
        items: stored.messages.filter((m) => m.seq > after),
        hasMore: false,
      }),
    } as unknown as MessageStore;
    return {
      stored,
      chats: new ChatService(
        chats,
        messages,
        {} as AttachmentStore,
        { now: () => new Date(state.now) },
        undefined,
        undefined,
        new EphemeralFeed(ports),
      ),
    };
  };
  const query = { after: 0, afterEvent: 0, waitSeconds: 0, limit: 100 };

  it('merges messages, chat events, typing and presence by time and keeps the other cursors as they were', async () => {
    // Prepare
    const { state, ports } = fakePorts(T0 + 10_000);
    const { stored, chats } = service(state, ports);
    stored.messages = [message(1, T0 + 9000), message(2, T0 + 9600)];
    stored.events = [receipt(1, T0 + 9400)];
    const typing = typed(bob, T0 + 9500);
    const online = transition('bob', T0 + 9100, true);
    state.typing = [typing, typed(alice, T0 + 9700)];
    state.transitions = [online];

    // Act
    const result = await chats.events(alice, chatId, query, 10);

    // Assess
    expect(result.items.map((e) => `${e.type}@${e.at.slice(17, 23)}`)).toEqual([
      'message.created@09.000',
      'presence@09.100',
      'receipt@09.400',
      'typing@09.500',
      'message.created@09.600',
    ]);
    expect(result.items[3]).toEqual(typing);
    expect(result).toMatchObject({ nextAfter: 2, nextAfterEvent: 1, hasMore: false });
    expect(parseSince(result.nextSince ?? '')).toEqual({
      floor: T0 + 8000,
      seen: [seenKey(presenceEnvelope(chatId, 'acme', online).id), seenKey(typing.id)],
    });
  });

  it('a long poll returns as soon as someone else types, and does not return it again with nextSince', async () => {
    // Prepare
    const { state, ports } = fakePorts(Date.now());
    const { chats } = service(state, ports);
    const first = await chats.events(alice, chatId, query, 10);
    const typing = typed(bob, Date.now() + 150);
    setTimeout(() => {
      state.now = Date.now();
      state.typing = [typing];
    }, 150);
    const ticking = setInterval(() => (state.now = Date.now()), 5);

    // Act
    const started = Date.now();
    const woken = await chats.events(alice, chatId, { ...query, waitSeconds: 5, since: first.nextSince }, 10);
    const wokenAfter = Date.now() - started;
    const again = await chats.events(alice, chatId, { ...query, waitSeconds: 1, since: woken.nextSince }, 10);
    const idleFor = Date.now() - started - wokenAfter;
    clearInterval(ticking);

    // Assess
    expect(woken.items).toEqual([typing]);
    expect(wokenAfter).toBeLessThan(1000);
    expect(again.items).toEqual([]);
    expect(idleFor).toBeGreaterThanOrEqual(900);
  });

  it('a long poll does not wake for the caller’s own typing', async () => {
    // Prepare
    const { state, ports } = fakePorts(Date.now());
    const { chats } = service(state, ports);
    state.typing = [typed(alice, Date.now())];

    // Act
    const started = Date.now();
    const result = await chats.events(alice, chatId, { ...query, waitSeconds: 1 }, 10);

    // Assess
    expect(result.items).toEqual([]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
