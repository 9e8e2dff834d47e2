/**
 * Live chat lists for pollers (shared/domain/chat-list-feed.ts): what a filter shows, the `since`
 * cursor, what one read of the change log gives, and the long poll — against an in-memory change log
 * whose entries may become visible after they were stamped (a write in flight, an index replica behind).
 * Fakes only, no AWS.
 */
import { describe, expect, it } from 'vitest';
import { parseListChatsQuery } from '../../shared/domain/chat-filter.ts';
import {
  type ChangeCursor,
  ChatListFeed,
  type ChatListFeedConfig,
  chatCreatedEnvelope,
  formatChangeCursor,
  listEnvelope,
  parseChangeCursor,
  positionAt,
  selectChanges,
} from '../../shared/domain/chat-list-feed.ts';
import { chatEventEnvelope } from '../../shared/domain/envelopes.ts';
import { seenKey } from '../../shared/domain/ephemeral.ts';
import { DomainError } from '../../shared/domain/errors.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import type { ChatListChange, ChatListChangeStore } from '../../shared/domain/ports.ts';
import type { ChatRecord, Envelope } from '../../shared/domain/schemas.ts';
import { chatRecord } from '../support/fixtures.ts';

const T0 = Date.parse('2026-11-21T10:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const agent: Identity = { tenantId: 'acme', userId: 'agent-1', role: 'agent' };
const config: ChatListFeedConfig = { windowMs: 5_000, overlapMs: 5_000, seenMax: 100, maxRead: 300 };
const filterOf = (query: Record<string, string>) => parseListChatsQuery(query).filter;

const chatAt = (atMs: number, metadata: Record<string, string> = {}): ChatRecord =>
  chatRecord(atMs, { metadata, createdBy: 'visitor-1' });
const pad = (n: number) => String(n).padStart(12, '0');

/** A log entry: the chat's creation, or a change (eventSeq ≥ 1) from `before` to `after`. */
const created = (chat: ChatRecord): ChatListChange => ({
  position: `${chat.createdAt}#${chat.chatId}#${pad(0)}`,
  envelope: chatCreatedEnvelope(chat),
  after: chat,
});
const updated = (
  before: ChatRecord,
  set: Partial<ChatRecord>,
  atMs: number,
  eventSeq: number,
): ChatListChange => {
  const after = { ...before, ...set, updatedAt: iso(atMs), lastEventSeq: eventSeq };
  const type = set.status === 'closed' ? 'chat.closed' : 'chat.updated';
  return {
    position: `${iso(atMs)}#${before.chatId}#${pad(eventSeq)}`,
    envelope: chatEventEnvelope({
      type,
      chatId: before.chatId,
      tenantId: before.tenantId,
      eventSeq,
      at: iso(atMs),
      actorId: 'agent-1',
      data: after,
      before,
    }),
    after,
    before,
  };
};

/** The change log as the index shows it at the fake clock's time: entries appear at `visibleAt`. */
class FakeLog implements ChatListChangeStore {
  now = T0;
  reads = 0;
  private readonly entries: { change: ChatListChange; visibleAt: number }[] = [];
  readonly clock = { now: () => new Date(this.now) };

  add(change: ChatListChange, visibleAt = Date.parse(change.envelope.at)): void {
    this.entries.push({ change, visibleAt });
  }

  async changesAfter(tenantId: string, position: string, limit: number) {
    this.reads++;
    const visible = this.entries
      .filter(({ change, visibleAt }) => visibleAt <= this.now && change.position > position)
      .filter(({ change }) => change.envelope.tenantId === tenantId)
      .map(({ change }) => change)
      .sort((a, b) => (a.position < b.position ? -1 : 1));
    return { items: visible.slice(0, limit), hasMore: visible.length > limit };
  }
}

const feedOf = (log: FakeLog, overrides: Partial<ChatListFeedConfig> = {}) =>
  new ChatListFeed(log, log.clock, { ...config, ...overrides }, async (ms) => {
    log.now += ms;
  });

const errorOf = async (promise: Promise<unknown>): Promise<DomainError> => {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a domain error');
};

describe('listEnvelope (what a live list with a filter shows; watchChats and the poll share it)', () => {
  it('shows a chat matching after the change as is, one that matched only before flagged leftFilter, and nothing else', () => {
    // Prepare
    const chat = chatAt(T0, { project_id: '123' });
    const moved = updated(chat, { metadata: { project_id: '456' } }, T0 + 10, 1);
    const filter123 = filterOf({ metadata__project_id: '123' });
    const filter456 = filterOf({ metadata__project_id: '456' });
    const filter999 = filterOf({ metadata__project_id: '999' });

    // Act
    const left = listEnvelope(filter123, moved.envelope, moved.after, moved.before);
    const entered = listEnvelope(filter456, moved.envelope, moved.after, moved.before);
    const unrelated = listEnvelope(filter999, moved.envelope, moved.after, moved.before);

    // Assess
    expect(left).toEqual({ ...moved.envelope, leftFilter: true });
    expect(entered).toBe(moved.envelope);
    expect(unrelated).toBeUndefined();
  });
});

describe('the since cursor', () => {
  it('round-trips a position and its seen keys as one URL-safe token', () => {
    // Prepare
    const cursor: ChangeCursor = {
      position: `${iso(T0)}#ch_00000000000000000001#${pad(3)}`,
      seen: [seenKey('a'), seenKey('b')],
    };

    // Act
    const token = formatChangeCursor(cursor);

    // Assess
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(parseChangeCursor(token, 100)).toEqual(cursor);
    expect(parseChangeCursor(formatChangeCursor({ position: positionAt(T0), seen: [] }), 100)).toEqual({
      position: positionAt(T0),
      seen: [],
    });
  });

  it.each([
    ['random text', Buffer.from('hello').toString('base64url')],
    ['a position that is not a time', Buffer.from('2026-99-99T99:99:99.999Z#~').toString('base64url')],
    ['a bad seen key', Buffer.from(`${positionAt(T0)},zz`).toString('base64url')],
    [
      'more seen keys than a cursor holds',
      formatChangeCursor({
        position: positionAt(T0),
        seen: Array.from({ length: 101 }, (_, i) => seenKey(`${i}`)),
      }),
    ],
  ])('refuses %s with a 400 naming since', (_, token) => {
    // Act
    let error: unknown;
    try {
      parseChangeCursor(token, 100);
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ status: 400, details: [{ path: ['since'] }] });
  });
});

describe('selectChanges (one read of the log)', () => {
  it('returns matching entries in log order, skips seen ones, and trails the read by the overlap', () => {
    // Prepare
    const a = created(chatAt(T0, { project_id: '1' }));
    const b = created(chatAt(T0 + 1_000, { project_id: '2' }));
    const c = created(chatAt(T0 + 9_000, { project_id: '1' }));
    const d = created(chatAt(T0 + 9_500, { project_id: '1' }));
    const cursor = { position: positionAt(T0 - 1), seen: [seenKey(d.envelope.id)] };

    // Act
    const { items, next } = selectChanges(
      { items: [a, b, c, d], hasMore: false },
      cursor,
      T0 + 10_000,
      filterOf({ metadata__project_id: '1' }),
      config,
    );

    // Assess: c and d are within the overlap (after T0 + 5 s): both remembered, d was seen already
    expect(items.map((e) => e.id)).toEqual([a.envelope.id, c.envelope.id]);
    expect(next).toEqual({
      position: positionAt(T0 + 5_000),
      seen: [seenKey(c.envelope.id), seenKey(d.envelope.id)],
    });
  });

  it('stops at the last entry read when the read hit its limit, and never moves backwards', () => {
    // Prepare
    const a = created(chatAt(T0));
    const b = created(chatAt(T0 + 1));
    const later = positionAt(T0 + 60_000);

    // Act
    const capped = selectChanges(
      { items: [a, b], hasMore: true },
      { position: '', seen: [] },
      T0 + 20_000,
      filterOf({}),
      config,
    );
    const ahead = selectChanges(
      { items: [], hasMore: false },
      { position: later, seen: [] },
      T0 + 20_000,
      filterOf({}),
      config,
    );

    // Assess
    expect(capped.next).toEqual({ position: b.position, seen: [] });
    expect(ahead.next.position).toBe(later);
  });

  it('keeps at most seenMax keys by moving the position past the oldest of a burst', () => {
    // Prepare: 150 changes in the last second
    const burst = Array.from({ length: 150 }, (_, i) => created(chatAt(T0 + i)));

    // Act
    const { items, next } = selectChanges(
      { items: burst, hasMore: false },
      { position: positionAt(T0 - 1), seen: [] },
      T0 + 1_000,
      filterOf({}),
      config,
    );

    // Assess
    expect(items).toHaveLength(150);
    expect(next.seen).toHaveLength(100);
    expect(next.position).toBe(burst[49]?.position);
  });
});

describe('ChatListFeed.poll', () => {
  it('is for agents and services only (403), and refuses a participant, paging or a foreign cursor (400)', async () => {
    // Prepare
    const feed = feedOf(new FakeLog());
    const poll = (identity: Identity, filter: Record<string, string>, since?: string) =>
      feed.poll(identity, { filter, waitSeconds: 0, ...(since ? { since } : {}) }, 500);

    // Act
    const outcomes = await Promise.all([
      errorOf(poll({ ...agent, role: 'user' }, {})),
      errorOf(poll({ ...agent, role: 'visitor' }, {})),
      errorOf(poll(agent, { participant: 'bob' })),
      errorOf(poll(agent, { limit: '10' })),
      errorOf(poll(agent, { cursor: 'abc' })),
      errorOf(poll(agent, { metadata__priority__near: '3' })),
      errorOf(poll(agent, {}, 'bm90IGEgY3Vyc29y')),
    ]);

    // Assess
    expect(outcomes.map((error) => error.status)).toEqual([403, 403, 400, 400, 400, 400, 400]);
  });

  it('without since returns the changes of the last window, so a list read just before is covered', async () => {
    // Prepare
    const log = new FakeLog();
    const old = created(chatAt(T0));
    const recent = created(chatAt(T0 + 8_000));
    log.add(old);
    log.add(recent);
    log.now = T0 + 10_000;

    // Act
    const first = await feedOf(log).poll(agent, { filter: {}, waitSeconds: 0 }, 500);

    // Assess
    expect(first.items.map((e) => e.id)).toEqual([recent.envelope.id]);
    expect(first.hasMore).toBe(false);
  });

  it('returns an entry that became visible after a poll had passed its time, once', async () => {
    // Prepare: `late` is stamped at +1 s but visible only at +3 s (write in flight)
    const log = new FakeLog();
    const feed = feedOf(log);
    const first = await feed.poll(agent, { filter: {}, waitSeconds: 0 }, 500);
    const early = created(chatAt(T0 + 2_000));
    const late = created(chatAt(T0 + 1_000));
    log.add(early);
    log.add(late, T0 + 3_000);

    // Act
    log.now = T0 + 2_500;
    const second = await feed.poll(agent, { filter: {}, since: first.nextSince, waitSeconds: 0 }, 500);
    log.now = T0 + 4_000;
    const third = await feed.poll(agent, { filter: {}, since: second.nextSince, waitSeconds: 0 }, 500);
    log.now = T0 + 20_000;
    const fourth = await feed.poll(agent, { filter: {}, since: third.nextSince, waitSeconds: 0 }, 500);

    // Assess
    expect(second.items.map((e) => e.id)).toEqual([early.envelope.id]);
    expect(third.items.map((e) => e.id)).toEqual([late.envelope.id]);
    expect(fourth.items).toEqual([]);
  });

  it('long-polls until a matching change arrives, ignoring others, and returns empty at the deadline', async () => {
    // Prepare: a non-matching change at +1 s, a matching one at +3 s
    const log = new FakeLog();
    const feed = feedOf(log);
    const start = await feed.poll(agent, { filter: { status: 'closed' }, waitSeconds: 0 }, 500);
    const chat = chatAt(T0 + 500);
    log.add(created(chat));
    const closed = updated(chat, { status: 'closed' }, T0 + 3_000, 1);
    log.add(closed);

    // Act
    const woken = await feed.poll(
      agent,
      { filter: { status: 'closed' }, since: start.nextSince, waitSeconds: 20 },
      500,
    );
    const wokenAt = log.now;
    const idle = await feed.poll(
      agent,
      { filter: { status: 'closed' }, since: woken.nextSince, waitSeconds: 2 },
      500,
    );

    // Assess
    expect(woken.items).toEqual([closed.envelope]);
    expect(wokenAt).toBe(T0 + 3_000);
    expect(idle.items).toEqual([]);
    expect(log.now - wokenAt).toBe(2_000);
  });

  it('pages through a backlog bigger than one read with hasMore, every entry exactly once', async () => {
    // Prepare: 1,000 creations, three per millisecond, polled long after
    const log = new FakeLog();
    const feed = feedOf(log);
    const start = await feed.poll(agent, { filter: {}, waitSeconds: 0 }, 500);
    const backlog = Array.from({ length: 1_000 }, (_, i) => created(chatAt(T0 + 1 + Math.floor(i / 3))));
    for (const change of backlog) log.add(change);
    log.now = T0 + 600_000;

    // Act
    const received: Envelope[] = [];
    let since = start.nextSince;
    let polls = 0;
    for (let more = true; more; polls++) {
      const poll = await feed.poll(agent, { filter: {}, since, waitSeconds: 0 }, 500);
      received.push(...poll.items);
      since = poll.nextSince;
      more = poll.hasMore;
    }

    // Assess
    expect(received.map((e) => e.id)).toEqual(backlog.map((c) => c.envelope.id));
    expect(polls).toBe(4);
  });

  it('keeps up with a busy log whose entries show up out of order: nothing lost, nothing repeated (seeded runs)', async () => {
    for (let seed = 1; seed <= 20; seed++) {
      // Prepare: a random walk of creations and changes, each visible 0–3 s after its stamp (< overlap)
      let state = seed * 7919;
      const random = () => {
        state = (state * 48271) % 2147483647;
        return state / 2147483647;
      };
      const log = new FakeLog();
      const feed = feedOf(log);
      const filter = { metadata__project_id: '1' };
      let since = (await feed.poll(agent, { filter, waitSeconds: 0 }, 500)).nextSince;
      const expected: Envelope[] = [];
      const received: Envelope[] = [];
      const live: ChatRecord[] = [];
      for (let step = 0; step < 300; step++) {
        log.now += Math.floor(random() * 200);
        const atMs = log.now;
        const visibleAt = atMs + Math.floor(random() * 3_000);
        const current = live[Math.floor(random() * live.length)];
        const change =
          current && random() < 0.6
            ? updated(
                current,
                { metadata: { project_id: random() < 0.5 ? '1' : '2' } },
                atMs,
                (current.lastEventSeq ?? 0) + 1,
              )
            : created(chatAt(atMs, { project_id: random() < 0.5 ? '1' : '2' }));
        if (current && change.before) live.splice(live.indexOf(current), 1);
        live.push(change.after);
        log.add(change, visibleAt);
        const shown = listEnvelope(filterOf(filter), change.envelope, change.after, change.before);
        if (shown) expected.push(shown);
        if (random() < 0.3) {
          const poll = await feed.poll(agent, { filter, since, waitSeconds: 0 }, 500);
          received.push(...poll.items);
          since = poll.nextSince;
        }
      }
      log.now += 10_000;
      received.push(...(await feed.poll(agent, { filter, since, waitSeconds: 0 }, 500)).items);

      // Assess
      const ids = received.map((e) => e.id);
      expect(new Set(ids).size, `seed ${seed}: repeats`).toBe(ids.length);
      expect([...ids].sort(), `seed ${seed}: lost or extra`).toEqual(expected.map((e) => e.id).sort());
      expect(received).toEqual(expect.arrayContaining(expected));
    }
  });
});
