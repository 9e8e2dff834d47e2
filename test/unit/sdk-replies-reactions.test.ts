/**
 * Browser SDK replies and reactions: applyReaction (counts from the change, `mine` from the change when
 * it is the user's own, else as shown; out-of-order versions ignored), applyUpdate and
 * applyParentDeleted; react / unreact / replies over HTTP; a reply's `replyTo` kept by the outbox
 * through retries and a reload, and sent over the socket too; `reaction` events from the socket and from
 * polling, each once, and relayed to a follower tab.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  applyParentDeleted,
  applyReaction,
  applyUpdate,
  type ChatClient,
  type ChatEvents,
  type Message,
  QUICK_REACTIONS,
  type ReactionChange,
} from '../../web/sdk/index.ts';
import {
  CHAT,
  FakeBackend,
  makeClient,
  memoryStorage,
  message,
  settled,
  twoTabs,
  until,
} from './sdk-fakes.ts';

const ME = 'v_1';
const HEART = '❤️';

const change = (overrides: Partial<ReactionChange> = {}): ReactionChange => ({
  messageId: 'm_aaaaaaaaaaaa_1',
  seq: 1,
  userId: 'u_agent',
  emoji: '👍',
  reacted: true,
  reactions: [{ emoji: '👍', count: 2 }],
  version: 2,
  ...overrides,
});

const withReactions = (reactions: Message['reactions']): Message => ({ ...message(1), reactions });

/** A `reaction` envelope as the server pushes it (no `mine`). */
const reactionEnvelope = (id: string, data: ReactionChange) => ({
  type: 'reaction',
  id,
  chatId: CHAT,
  at: new Date().toISOString(),
  data,
});

describe('applyReaction', () => {
  it("takes another user's counts and keeps this user's own reactions as shown", () => {
    // Prepare: this user reacted 👍; someone adds ❤️.
    const shown = withReactions([{ emoji: '👍', count: 1, mine: true }]);
    const theirs = change({
      emoji: HEART,
      reactions: [
        { emoji: '👍', count: 1 },
        { emoji: HEART, count: 1 },
      ],
    });

    // Act
    const next = applyReaction(shown, theirs, ME);

    // Assess
    expect(next.reactions).toEqual([
      { emoji: '👍', count: 1, mine: true },
      { emoji: HEART, count: 1, mine: false },
    ]);
    expect(shown.reactions).toEqual([{ emoji: '👍', count: 1, mine: true }]); // not mutated
  });

  it("sets mine from the user's own change (an envelope has no mine), keeping the other emoji as shown", () => {
    // Prepare
    const shown = withReactions([
      { emoji: '👍', count: 1, mine: true },
      { emoji: HEART, count: 1, mine: false },
    ]);

    // Act: this user takes 👍 back, then adds ❤️ (the envelopes of another device of theirs).
    const removed = applyReaction(
      shown,
      change({ userId: ME, reacted: false, reactions: [{ emoji: HEART, count: 1 }] }),
      ME,
    );
    const added = applyReaction(
      removed,
      change({ userId: ME, emoji: HEART, reactions: [{ emoji: HEART, count: 2 }], version: 3 }),
      ME,
    );

    // Assess
    expect(removed.reactions).toEqual([{ emoji: HEART, count: 1, mine: false }]);
    expect(added.reactions).toEqual([{ emoji: HEART, count: 2, mine: true }]);
  });

  it("uses the mine values of the API's answer to this user", () => {
    // Act
    const next = applyReaction(
      withReactions([]),
      change({
        userId: ME,
        reactions: [
          { emoji: HEART, count: 3, mine: true },
          { emoji: '👍', count: 2, mine: true },
        ],
      }),
      ME,
    );

    // Assess
    expect(next.reactions).toEqual([
      { emoji: HEART, count: 3, mine: true },
      { emoji: '👍', count: 2, mine: true },
    ]);
  });

  it('ignores a change whose version is not above the last applied for that message', () => {
    // Prepare
    const versions = new Map<string, number>();
    const shown = withReactions([]);

    // Act: version 0 first, then 5, then a late 4, a repeated 5, and another message's change.
    const first = applyReaction(
      shown,
      change({ version: 0, reactions: [{ emoji: '👍', count: 1 }] }),
      ME,
      versions,
    );
    const five = applyReaction(
      first,
      change({ version: 5, reactions: [{ emoji: '👍', count: 3 }] }),
      ME,
      versions,
    );
    const late = applyReaction(
      five,
      change({ version: 4, reactions: [{ emoji: '👍', count: 2 }] }),
      ME,
      versions,
    );
    const again = applyReaction(late, change({ version: 5 }), ME, versions);
    const other = applyReaction(again, change({ messageId: 'm_aaaaaaaaaaaa_2', version: 9 }), ME, versions);

    // Assess
    expect(first.reactions).toEqual([{ emoji: '👍', count: 1, mine: false }]);
    expect(five.reactions).toEqual([{ emoji: '👍', count: 3, mine: false }]);
    expect(late).toBe(five);
    expect(again).toBe(five);
    expect(other).toBe(five);
    expect([...versions]).toEqual([['m_aaaaaaaaaaaa_1', 5]]);
  });
});

describe('applyUpdate and applyParentDeleted', () => {
  it("keeps this user's mine on a newer copy of a message, and the reactions shown when it has none", () => {
    // Prepare
    const shown = withReactions([
      { emoji: '👍', count: 1, mine: true },
      { emoji: HEART, count: 1, mine: false },
    ]);
    const edited = { ...message(1, 'edited'), reactions: [{ emoji: '👍', count: 2 }] };
    const counted = { ...message(1), replyCount: 1 };

    // Act
    const next = applyUpdate(shown, edited);
    const kept = applyUpdate(shown, counted);
    const plain = applyUpdate(undefined, counted);

    // Assess
    expect(next).toMatchObject({ text: 'edited', reactions: [{ emoji: '👍', count: 2, mine: true }] });
    expect(kept).toMatchObject({ replyCount: 1, reactions: shown.reactions });
    expect(plain).toBe(counted);
  });

  it('blanks the quote of a reply whose quoted message was deleted, and leaves other messages as they are', () => {
    // Prepare
    const parent = message(1);
    const reply: Message = {
      ...message(2, 'yes'),
      replyTo: { messageId: parent.messageId, seq: 1, senderId: 'v_1', text: 'm1' },
    };
    const deleted = { ...parent, text: '', deletedAt: new Date().toISOString() };

    // Act
    const blanked = applyParentDeleted(reply, deleted);

    // Assess
    expect(blanked.replyTo).toEqual({ messageId: parent.messageId, seq: 1, senderId: 'v_1', deleted: true });
    expect(applyParentDeleted(reply, parent)).toBe(reply); // not deleted
    const plain = message(3);
    expect(applyParentDeleted(plain, deleted)).toBe(plain); // not a reply
    expect(applyParentDeleted(blanked, deleted)).toBe(blanked);
  });

  it('offers fully-qualified quick reactions', () => {
    expect(QUICK_REACTIONS).toEqual(['👍', '❤️', '😂', '😮', '😢', '🙏']);
    expect(QUICK_REACTIONS[1]).toBe('\u2764\ufe0f');
  });
});

describe('browser SDK replies and reactions', () => {
  const clients: ChatClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  /**
   * The fake backend, plus the reactions and replies routes (the server's answers, canned), with every
   * request's method, path and body recorded.
   */
  const backendWithReplies = () => {
    const backend = new FakeBackend();
    const calls: { method: string; path: string; body?: Record<string, unknown> }[] = [];
    const replies = [
      { ...message(3, 'a reply'), replyTo: { messageId: 'm_aaaaaaaaaaaa_1', seq: 1, senderId: 'v_1' } },
    ];
    const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined;
      calls.push({ method, path: `${url.pathname}${url.search}`, ...(body ? { body } : {}) });
      const reaction = /\/messages\/(m_[a-z0-9_]+)\/reactions\/([^/]+)$/.exec(url.pathname);
      if (reaction) {
        const emoji = decodeURIComponent(reaction[2] ?? '');
        const reacted = method === 'PUT';
        const answer = change({
          userId: ME,
          emoji,
          reacted,
          reactions: reacted ? [{ emoji, count: 1, mine: true }] : [],
          version: reacted ? 1 : 2,
        });
        return new Response(JSON.stringify(answer), { status: 200 });
      }
      if (/\/messages\/m_[a-z0-9_]+\/replies$/.test(url.pathname))
        return new Response(JSON.stringify({ items: replies }), { status: 200 });
      return backend.fetch(input, init);
    };
    return { backend, calls, fetch: fetch as typeof globalThis.fetch };
  };

  const setup = (options: Parameters<typeof makeClient>[1] = {}) => {
    const { backend, calls, fetch } = backendWithReplies();
    const made = makeClient(backend, { fetch, ...options });
    clients.push(made.client);
    const reactions: ChatEvents['reaction'][] = [];
    made.client.on('reaction', (r) => reactions.push(r));
    return { ...made, backend, calls, fetch, reactions };
  };

  it('adds and takes back a reaction with PUT and DELETE of the URL-encoded emoji, answering the change', async () => {
    // Prepare
    const { client, calls } = setup();

    // Act
    const added = await client.react(CHAT, 'm_aaaaaaaaaaaa_1', HEART);
    const removed = await client.unreact(CHAT, 'm_aaaaaaaaaaaa_1', HEART);

    // Assess
    const path = `/v1/chats/${CHAT}/messages/m_aaaaaaaaaaaa_1/reactions/%E2%9D%A4%EF%B8%8F`;
    expect(calls).toEqual([
      { method: 'PUT', path },
      { method: 'DELETE', path },
    ]);
    expect(added).toMatchObject({
      emoji: HEART,
      reacted: true,
      reactions: [{ emoji: HEART, count: 1, mine: true }],
    });
    expect(removed).toMatchObject({ emoji: HEART, reacted: false, reactions: [] });
    expect(applyReaction(applyReaction(message(1), added, ME), removed, ME).reactions).toEqual([]);
  });

  it("reads a message's thread with after and limit", async () => {
    // Prepare
    const { client, calls } = setup();

    // Act
    const page = await client.replies(CHAT, 'm_aaaaaaaaaaaa_1', { after: 2, limit: 50 });
    await client.replies(CHAT, 'm_aaaaaaaaaaaa_1');

    // Assess
    expect(page.items.map((m) => [m.seq, m.replyTo?.messageId])).toEqual([[3, 'm_aaaaaaaaaaaa_1']]);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      `GET /v1/chats/${CHAT}/messages/m_aaaaaaaaaaaa_1/replies?after=2&limit=50`,
      `GET /v1/chats/${CHAT}/messages/m_aaaaaaaaaaaa_1/replies`,
    ]);
  });

  it('keeps replyTo in the outbox, through a failed attempt and a reload, and sends it each time', async () => {
    // Prepare: the API is busy; a reply waits in the persisted outbox.
    const { backend, calls, fetch } = backendWithReplies();
    backend.failNextSends = Number.MAX_SAFE_INTEGER;
    const storage = memoryStorage();
    const options = {
      fetch,
      storage,
      storageKey: 'chat:demo:v_1',
      timing: { minBackoffMs: 50, maxBackoffMs: 50 },
    };
    const first = makeClient(backend, options).client;
    clients.push(first);
    void first
      .send(CHAT, { text: 'yes', replyTo: 'm_aaaaaaaaaaaa_1' }, { clientMessageId: 'cm-r' })
      .catch(() => {});
    const posts = () => calls.filter((c) => c.method === 'POST' && c.path.endsWith('/messages'));
    await until(() => posts().length >= 2, 'a retried attempt');

    // Act: "reload" on the same storage, the API answering again.
    const pending = first.pending(CHAT);
    first.close();
    backend.failNextSends = 0;
    const second = makeClient(backend, options);
    clients.push(second.client);
    await second.client.connect();
    await until(() => second.client.pending().length === 0, 'the outbox to empty');

    // Assess: every attempt, before and after the reload, was the same reply.
    expect(pending).toMatchObject([{ clientMessageId: 'cm-r', text: 'yes', replyTo: 'm_aaaaaaaaaaaa_1' }]);
    expect(posts().length).toBeGreaterThanOrEqual(3);
    for (const post of posts())
      expect(post.body).toEqual({
        clientMessageId: 'cm-r',
        type: 'text',
        text: 'yes',
        replyTo: 'm_aaaaaaaaaaaa_1',
      });
    expect(backend.stored().map((m) => m.clientMessageId)).toEqual(['cm-r']);
  });

  it('sends replyTo in the sendMessage frame over a live socket, and nothing for a plain message', async () => {
    // Prepare
    const { client, backend } = setup();
    await client.connect();
    await client.subscribe(CHAT);

    // Act
    await client.send(CHAT, { text: 'yes', replyTo: 'm_aaaaaaaaaaaa_1' });
    await client.send(CHAT, 'plain');

    // Assess
    const frames = backend.socket.frames.filter((f) => f.action === 'sendMessage');
    expect(frames.map((f) => [f.text, f.replyTo])).toEqual([
      ['yes', 'm_aaaaaaaaaaaa_1'],
      ['plain', undefined],
    ]);
    expect('replyTo' in (frames[1] ?? {})).toBe(false);
  });

  it('emits a reaction envelope of the socket once, with its chatId, however often it is delivered', async () => {
    // Prepare
    const { client, backend, reactions } = setup();
    backend.store(1);
    await client.connect();
    await client.subscribe(CHAT);
    const envelope = reactionEnvelope('r-1', change());

    // Act: delivered twice (at-least-once), then a second change.
    backend.push(CHAT, envelope);
    backend.push(CHAT, envelope);
    backend.push(CHAT, reactionEnvelope('r-2', change({ version: 3 })));
    await until(() => reactions.length >= 2, 'the reactions');
    await settled(backend);

    // Assess
    expect(reactions).toEqual([
      { ...change(), chatId: CHAT },
      { ...change({ version: 3 }), chatId: CHAT },
    ]);
  });

  it('emits the reaction envelopes a poll returns, once each', async () => {
    // Prepare: no socket; the chat is polled.
    const { client, backend, reactions } = setup({ transport: 'polling' });
    backend.store(1);
    await client.connect();
    await client.subscribe(CHAT);

    // Act: a reaction in the poll's live items (like typing), then the same one polled again.
    const envelope = reactionEnvelope('r-poll', change());
    backend.ephemeral.push(envelope);
    await until(() => reactions.length === 1, 'the polled reaction');
    backend.ephemeral.push(envelope);
    await until(
      () => backend.requests.filter((r) => r.includes(`since=${backend.ephemeral.length}`)).length > 0,
      'a poll past the repeat',
    );
    await settled(backend);

    // Assess
    expect(client.status).toBe('polling');
    expect(reactions).toEqual([{ ...change(), chatId: CHAT }]);
  });

  it("relays a reaction the leader tab's socket receives to a follower tab", async () => {
    // Prepare: two tabs of one visitor sharing the leader's socket.
    const { backend, fetch } = backendWithReplies();
    backend.store(1);
    const { tabs, heard } = await twoTabs(backend, fetch, 'reaction');
    clients.push(...tabs);

    // Act
    backend.push(CHAT, reactionEnvelope('r-tabs', change()));
    await until(() => heard.every((list) => list.length === 1), 'the reaction in both tabs');
    await settled(backend);

    // Assess
    expect(backend.sockets).toHaveLength(1);
    expect(heard).toEqual([[{ ...change(), chatId: CHAT }], [{ ...change(), chatId: CHAT }]]);
  });
});
