/**
 * Browser SDK mentions: splitMentions (only the ids of a message's `mentions` list are mentions, at word
 * boundaries, never an `@name` merely typed); `mentions` kept by the outbox through retries and a reload
 * and sent over HTTP and in the socket's sendMessage frame; `mention` events from the socket (for a chat
 * this client does not follow too) and from polling, each once, and relayed to a follower tab;
 * getUnread's `mentions` counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ChatClient, type ChatEvents, type Message, splitMentions } from '../../web/sdk/index.ts';
import {
  CHAT,
  created,
  FakeBackend,
  makeClient,
  memoryStorage,
  message,
  OTHER_CHAT,
  settled,
  twoTabs,
  until,
} from './sdk-fakes.ts';

/** A message of the agent's that mentions `mentions`. */
const mentioning = (seq: number, mentions: string[], chatId = CHAT): Message => ({
  ...message(seq, `@${mentions.join(' @')} look`, chatId),
  senderId: 'agent-1',
  senderRole: 'agent',
  mentions,
});

/** The `mention` envelope the server sends each mentioned user (docs: web-mentions). */
const mentionEnvelope = (m: Message, userId = 'v_1') => ({
  type: 'mention',
  id: `${m.chatId}:${m.seq}:mention:${userId}`,
  tenantId: m.tenantId,
  chatId: m.chatId,
  seq: m.seq,
  at: m.createdAt,
  data: m,
});

describe('splitMentions', () => {
  it('marks the @userId of each listed user, leaving the rest of the text as it is', () => {
    // Act
    const parts = splitMentions('Hi @agent-2, ask @v_1.', ['v_1', 'agent-2']);

    // Assess
    expect(parts).toEqual([
      { text: 'Hi ' },
      { text: '@agent-2', userId: 'agent-2' },
      { text: ', ask ' },
      { text: '@v_1', userId: 'v_1' },
      { text: '.' },
    ]);
    expect(parts.map((part) => part.text).join('')).toBe('Hi @agent-2, ask @v_1.');
  });

  it('marks nothing that is not in the list: a typed @name stays text', () => {
    expect(splitMentions('@someone there', [])).toEqual([{ text: '@someone there' }]);
    expect(splitMentions('@someone there', ['v_1'])).toEqual([{ text: '@someone there' }]);
    expect(splitMentions('@someone there')).toEqual([{ text: '@someone there' }]);
    expect(splitMentions('', ['v_1'])).toEqual([]);
  });

  it('matches whole ids only: not inside a longer id, an address or a word', () => {
    // Act
    const longer = splitMentions('@ann-lee and @ann', ['ann']);
    const both = splitMentions('@ann-lee and @ann', ['ann', 'ann-lee']);
    const address = splitMentions('mail ann@v_1 or x@v_1', ['v_1']);
    const dotted = splitMentions('@v_1.x @v_1:', ['v_1']);

    // Assess
    expect(longer).toEqual([{ text: '@ann-lee and ' }, { text: '@ann', userId: 'ann' }]);
    expect(both).toEqual([
      { text: '@ann-lee', userId: 'ann-lee' },
      { text: ' and ' },
      { text: '@ann', userId: 'ann' },
    ]);
    expect(address).toEqual([{ text: 'mail ann@v_1 or x@v_1' }]);
    expect(dotted).toEqual([{ text: '@v_1.x ' }, { text: '@v_1', userId: 'v_1' }, { text: ':' }]);
  });

  it('marks each occurrence, at the start of a line too, and treats markup as text', () => {
    // Act
    const parts = splitMentions('@v_1\n<b>@v_1</b>', ['v_1']);

    // Assess
    expect(parts).toEqual([
      { text: '@v_1', userId: 'v_1' },
      { text: '\n<b>' },
      { text: '@v_1', userId: 'v_1' },
      { text: '</b>' },
    ]);
  });
});

describe('browser SDK mentions', () => {
  const clients: ChatClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  /** The fake backend, every request's method, path and body recorded; GET /v1/unread canned. */
  const recorded = () => {
    const backend = new FakeBackend();
    const calls: { method: string; path: string; body?: Record<string, unknown> }[] = [];
    const fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const url = new URL(String(input));
      const method = init?.method ?? 'GET';
      const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : undefined;
      calls.push({ method, path: `${url.pathname}${url.search}`, ...(body ? { body } : {}) });
      if (url.pathname === '/v1/unread') {
        const unread = { total: 3, mentions: 1, chats: [{ chatId: CHAT, unread: 3, mentions: 1 }] };
        return new Response(JSON.stringify(unread), { status: 200 });
      }
      return backend.fetch(input, init);
    };
    return { backend, calls, fetch: fetch as typeof globalThis.fetch };
  };

  const setup = (options: Parameters<typeof makeClient>[1] = {}) => {
    const { backend, calls, fetch } = recorded();
    const made = makeClient(backend, { fetch, ...options });
    clients.push(made.client);
    const mentions: ChatEvents['mention'][] = [];
    made.client.on('mention', (m) => mentions.push(m));
    return { ...made, backend, calls, mentions };
  };

  it('keeps mentions in the outbox, through a failed attempt and a reload, and sends them each time', async () => {
    // Prepare: the API is busy; a message mentioning two users waits in the persisted outbox.
    const { backend, calls, fetch } = recorded();
    backend.failNextSends = Number.MAX_SAFE_INTEGER;
    const options = {
      fetch,
      storage: memoryStorage(),
      storageKey: 'chat:demo:agent-1',
      timing: { minBackoffMs: 50, maxBackoffMs: 50 },
    };
    const first = makeClient(backend, options).client;
    clients.push(first);
    const mentions = ['v_1', 'agent-2'];
    void first
      .send(CHAT, { text: '@v_1 @agent-2 hi', mentions }, { clientMessageId: 'cm-m' })
      .catch(() => {});
    mentions.push('changed-after-send'); // the outbox keeps its own copy
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

    // Assess: every attempt, before and after the reload, carried the mentions.
    expect(pending).toMatchObject([
      { clientMessageId: 'cm-m', text: '@v_1 @agent-2 hi', mentions: ['v_1', 'agent-2'] },
    ]);
    expect(posts().length).toBeGreaterThanOrEqual(3);
    for (const post of posts())
      expect(post.body).toEqual({
        clientMessageId: 'cm-m',
        type: 'text',
        text: '@v_1 @agent-2 hi',
        mentions: ['v_1', 'agent-2'],
      });
    expect(backend.stored().map((m) => m.clientMessageId)).toEqual(['cm-m']);
  });

  it('sends mentions in the sendMessage frame over a live socket, and none for an empty list or a plain message', async () => {
    // Prepare
    const { client, backend } = setup();
    await client.connect();
    await client.subscribe(CHAT);

    // Act
    await client.send(CHAT, { text: '@v_1 hello', mentions: ['v_1'], replyTo: 'm_aaaaaaaaaaaa_1' });
    await client.send(CHAT, { text: 'nobody', mentions: [] });
    await client.send(CHAT, '@v_1 typed, not picked');

    // Assess
    const frames = backend.socket.frames.filter((f) => f.action === 'sendMessage');
    expect(frames.map((f) => [f.text, f.mentions, f.replyTo])).toEqual([
      ['@v_1 hello', ['v_1'], 'm_aaaaaaaaaaaa_1'],
      ['nobody', undefined, undefined],
      ['@v_1 typed, not picked', undefined, undefined],
    ]);
    expect(frames.slice(1).some((f) => 'mentions' in f)).toBe(false);
    expect(client.pending()).toEqual([]);
  });

  it('emits a mention of a chat it does not follow, pushed to its socket, once however often it comes', async () => {
    // Prepare: live, following CHAT only; the message of OTHER_CHAT mentions this user.
    const { client, backend, mentions, seen } = setup();
    await client.connect();
    await client.subscribe(CHAT);
    const m = mentioning(4, ['v_1'], OTHER_CHAT);

    // Act: the server pushes it to every socket of the user (twice: at-least-once), then another one.
    backend.socket.deliver(mentionEnvelope(m));
    backend.socket.deliver(mentionEnvelope(m));
    backend.socket.deliver(mentionEnvelope(mentioning(5, ['v_1'], OTHER_CHAT)));
    await until(() => mentions.length >= 2, 'the mentions');
    await settled(backend);

    // Assess: the messages themselves are not delivered (OTHER_CHAT is not followed).
    expect(mentions).toEqual([m, mentioning(5, ['v_1'], OTHER_CHAT)]);
    expect(mentions[0]?.chatId).toBe(OTHER_CHAT);
    expect(seen).toEqual([]);
    expect(backend.requests.some((r) => r.includes(OTHER_CHAT))).toBe(false);
  });

  it('emits a mention of a followed chat once, next to its message', async () => {
    // Prepare
    const { client, backend, mentions, seen } = setup();
    await client.connect();
    await client.subscribe(CHAT);
    const m = mentioning(1, ['v_1']);
    backend.stored().push(m);

    // Act: the message, its mention, and the mention again.
    backend.push(CHAT, created(m));
    backend.push(CHAT, mentionEnvelope(m));
    backend.push(CHAT, mentionEnvelope(m));
    await until(() => seen.length === 1 && mentions.length === 1, 'the message and its mention');
    await settled(backend);

    // Assess
    expect(seen).toEqual([1]);
    expect(mentions).toEqual([m]);
  });

  it('emits the mention envelopes a poll returns, once each, however often they are polled', async () => {
    // Prepare: no socket; the chat is polled.
    const { client, backend, mentions } = setup({ transport: 'polling' });
    await client.connect();
    await client.subscribe(CHAT);
    const m = mentioning(1, ['v_1']);
    backend.stored().push(m);

    // Act: the mention in a poll's items (next to the message's message.created), then polled again.
    backend.ephemeral.push({ ...mentionEnvelope(m), data: m as unknown });
    await until(() => mentions.length === 1, 'the polled mention');
    backend.ephemeral.push({ ...mentionEnvelope(m), data: m as unknown });
    await until(
      () => backend.requests.some((r) => r.includes(`since=${backend.ephemeral.length}`)),
      'a poll past the repeat',
    );
    await settled(backend);

    // Assess
    expect(client.status).toBe('polling');
    expect(mentions).toEqual([m]);
  });

  it("relays a mention the leader tab's socket receives, of a chat no tab follows, to a follower tab", async () => {
    // Prepare: two tabs of one user sharing the leader's socket.
    const { backend, fetch } = recorded();
    const { tabs, heard } = await twoTabs(backend, fetch, 'mention');
    clients.push(...tabs);
    const m = mentioning(7, ['v_1'], OTHER_CHAT);

    // Act
    backend.socket.deliver(mentionEnvelope(m));
    await until(() => heard.every((list) => list.length === 1), 'the mention in both tabs');
    await settled(backend);

    // Assess
    expect(backend.sockets).toHaveLength(1);
    expect(heard).toEqual([[m], [m]]);
  });

  it('reads unread counts with the mentions among them', async () => {
    // Prepare
    const { client, calls } = setup();

    // Act
    const unread = await client.getUnread();

    // Assess: typed — `mentions` in total and per chat.
    const mentioned: number = unread.mentions;
    const perChat: number | undefined = unread.chats[0]?.mentions;
    expect([mentioned, perChat, unread.total]).toEqual([1, 1, 3]);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /v1/unread']);
  });
});
