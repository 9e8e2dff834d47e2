/**
 * Test doubles for the browser SDK: a scripted backend (HTTP routes and sockets over one store of
 * messages and events), an in-memory BroadcastChannel and Web Locks, and a memory Storage. The SDK's
 * timing is shrunk so the tests wait on conditions, never on the wall clock's defaults.
 */
import { ChatClient } from '../../web/sdk/client.ts';
import type {
  BroadcastChannelLike,
  ChatClientOptions,
  ChatEvents,
  LocksLike,
  Message,
  StorageLike,
  Timing,
  WebSocketLike,
} from '../../web/sdk/index.ts';

export const CHAT = 'ch_aaaaaaaaaaaaaaaaaaaa';
export const OTHER_CHAT = 'ch_bbbbbbbbbbbbbbbbbbbb';

export const message = (seq: number, text = `m${seq}`, chatId = CHAT): Message => ({
  messageId: `m_aaaaaaaaaaaa_${seq}`,
  chatId,
  tenantId: 'demo',
  seq,
  clientMessageId: `c${seq}`,
  senderId: 'v_1',
  senderRole: 'visitor',
  type: 'text',
  text,
  createdAt: new Date(1_000 * seq).toISOString(),
});

export const created = (m: Message) => ({
  type: 'message.created',
  id: `${m.chatId}:${m.seq}:created`,
  tenantId: 'demo',
  chatId: m.chatId,
  seq: m.seq,
  at: m.createdAt,
  data: m,
});

export const chat = (chatId = CHAT, extra: Record<string, unknown> = {}) => ({
  chatId,
  tenantId: 'demo',
  metadata: {},
  status: 'open',
  createdBy: 'v_1',
  createdAt: new Date(0).toISOString(),
  updatedAt: new Date(0).toISOString(),
  lastActivityAt: new Date(0).toISOString(),
  lastSeq: 0,
  ...extra,
});

type Envelope = { type: string; id: string; chatId?: string; eventSeq?: number; at: string; data: unknown };

/** The chats a subscribe frame names (`chats`, or the one `chatId` with its `after`). */
export const chatsOf = (frame: Record<string, unknown>): { chatId: string; after?: number }[] =>
  Array.isArray(frame.chats)
    ? (frame.chats as { chatId: string; after?: number }[])
    : frame.chatId === undefined
      ? []
      : [
          {
            chatId: String(frame.chatId),
            ...(typeof frame.after === 'number' ? { after: frame.after } : {}),
          },
        ];

/** How new sockets behave: open and answer, fail before opening, never open, or open and stay mute. */
export type SocketMode = 'ok' | 'refuse' | 'hang' | 'mute';

export class FakeBackend {
  readonly messages = new Map<string, Message[]>();
  /** Per chat: the event log (chat.updated, message.updated, …) with its eventSeq. */
  readonly events = new Map<string, Envelope[]>();
  /** The tenant's chat change log (GET /v1/chats/changes). */
  readonly changes: Envelope[] = [];
  /** Typing and presence for pollers. */
  readonly ephemeral: Envelope[] = [];
  readonly requests: string[] = [];
  readonly sockets: FakeSocket[] = [];
  /** The chats of each subscribe frame received, in order. */
  readonly subscribeFrames: string[][] = [];
  tickets = 0;
  pageSize = 100;
  socketMode: SocketMode = 'ok';
  failNextSends = 0;
  failNextMessageReads = 0;
  /**
   * How many messages after the subscribe frame's `after` its ack carries, as the server's does (at
   * most 50); 0 answers as a server that only names the positions.
   */
  ackMessages = 0;
  failTickets = false;
  answerPings = true;
  /** Tokens the API answers with 401 "token expired". */
  readonly expired = new Set<string>();
  readonly tokensSeen: string[] = [];

  stored(chatId = CHAT): Message[] {
    let list = this.messages.get(chatId);
    if (!list) this.messages.set(chatId, (list = []));
    return list;
  }

  /** Stores messages without pushing them (a socket misses them). */
  store(count: number, chatId = CHAT): Message[] {
    const list = this.stored(chatId);
    const added: Message[] = [];
    for (let i = 0; i < count; i++) {
      const m = message(list.length + 1, `m${list.length + 1}`, chatId);
      list.push(m);
      added.push(m);
    }
    return added;
  }

  /** Stores a message and pushes it to every open socket subscribed to its chat. */
  publish(chatId = CHAT, text?: string): Message {
    const list = this.stored(chatId);
    const m = message(list.length + 1, text ?? `m${list.length + 1}`, chatId);
    list.push(m);
    this.push(chatId, created(m));
    return m;
  }

  /** Appends to a chat's event log and pushes it to its subscribers. */
  event(chatId: string, type: string, data: unknown): Envelope {
    const log = this.events.get(chatId) ?? [];
    this.events.set(chatId, log);
    const eventSeq = log.length + 1;
    const envelope = {
      type,
      id: `${chatId}:e${eventSeq}`,
      chatId,
      eventSeq,
      at: new Date().toISOString(),
      data,
    };
    log.push(envelope);
    this.push(chatId, envelope);
    return envelope;
  }

  /** A live-list change: logged for GET /v1/chats/changes and pushed to watching sockets. */
  change(type: string, data: { chatId: string }, leftFilter = false): Envelope {
    const envelope = {
      type,
      id: `${data.chatId}:c${this.changes.length + 1}`,
      chatId: data.chatId,
      at: new Date().toISOString(),
      data,
      ...(leftFilter ? { leftFilter } : {}),
    };
    this.changes.push(envelope);
    for (const socket of this.live()) if (socket.watching) socket.deliver(envelope);
    return envelope;
  }

  /** To every live socket subscribed to the chat, but `except` (the socket a message came over). */
  push(chatId: string, envelope: unknown, except?: FakeSocket): void {
    for (const socket of this.live())
      if (socket !== except && socket.subscribed.has(chatId)) socket.deliver(envelope);
  }

  /** Sockets neither side has closed. */
  live(): FakeSocket[] {
    return this.sockets.filter((socket) => socket.isOpen);
  }

  get socket(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket yet');
    return socket;
  }

  /** Like the server: a message sent over a socket is not pushed back to it (its ack carries it). */
  #send(
    chatId: string,
    body: { clientMessageId: string; text?: string; attachmentId?: string },
    via?: FakeSocket,
  ) {
    const list = this.stored(chatId);
    const existing = list.find((m) => m.clientMessageId === body.clientMessageId);
    if (existing) return { message: existing, created: false };
    const m = { ...message(list.length + 1, body.text ?? '', chatId), clientMessageId: body.clientMessageId };
    list.push(m);
    this.push(chatId, created(m), via);
    return { message: m, created: true };
  }

  /** HTTP requests not answered yet. */
  inFlight = 0;

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    this.inFlight += 1;
    try {
      return await this.#route(input, init);
    } finally {
      this.inFlight -= 1;
    }
  };

  readonly #route = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    const path = url.pathname;
    this.requests.push(`${method} ${path}${url.search}`);
    const token = new Headers(init?.headers).get('authorization')?.replace('Bearer ', '') ?? '';
    this.tokensSeen.push(token);
    const reply = (status: number, body?: unknown) =>
      new Response(body === undefined ? null : JSON.stringify(body), { status });
    const fail = (status: number, code: string, text: string) =>
      reply(status, { error: { code, message: text } });
    if (this.expired.has(token)) return fail(401, 'unauthorized', 'token expired');
    const chatId = /^\/v1\/chats\/(ch_[a-z0-9]+)/.exec(path)?.[1] ?? '';
    const body = init?.body ? (JSON.parse(String(init.body)) as Record<string, unknown>) : {};
    if (method === 'POST' && path === '/v1/realtime/tickets') {
      if (this.failTickets) return fail(503, 'busy', 'try later');
      this.tickets += 1;
      return reply(201, { ticket: `ticket-${this.tickets}`, url: 'ws://fake', expiresAt: '' });
    }
    if (method === 'GET' && path === '/v1/chats/changes') {
      const since = Number(url.searchParams.get('since') ?? this.changes.length);
      return reply(200, {
        items: this.changes.slice(since),
        nextSince: String(this.changes.length),
        hasMore: false,
      });
    }
    if (method === 'GET' && path.endsWith('/messages')) {
      if (this.failNextMessageReads > 0) {
        this.failNextMessageReads -= 1;
        return fail(503, 'busy', 'try later');
      }
      const after = Number(url.searchParams.get('after') ?? 0);
      const before = url.searchParams.get('before');
      const all = this.stored(chatId);
      const rest = before ? all.filter((m) => m.seq < Number(before)) : all.filter((m) => m.seq > after);
      const items = rest.slice(0, this.pageSize);
      const more = rest.length > items.length;
      return reply(200, { items, ...(more ? { nextCursor: String(items.at(-1)?.seq) } : {}) });
    }
    if (method === 'POST' && path.endsWith('/messages')) {
      if (chatId !== CHAT && chatId !== OTHER_CHAT) return fail(403, 'forbidden', 'not yours');
      if (this.failNextSends > 0) {
        this.failNextSends -= 1;
        return fail(503, 'busy', 'retry with the same clientMessageId');
      }
      const sent = this.#send(chatId, body as { clientMessageId: string });
      return reply(sent.created ? 201 : 200, sent.message);
    }
    if (method === 'GET' && path.endsWith('/events')) {
      const after = Number(url.searchParams.get('after'));
      const afterEvent = Number(url.searchParams.get('afterEvent'));
      const since = Number(url.searchParams.get('since') ?? this.ephemeral.length);
      const messages = this.stored(chatId).filter((m) => m.seq > after);
      const events = (this.events.get(chatId) ?? []).filter((e) => (e.eventSeq ?? 0) > afterEvent);
      const live = this.ephemeral.slice(since).filter((e) => e.chatId === chatId);
      return reply(200, {
        items: [...messages.map(created), ...events, ...live],
        nextAfter: messages.at(-1)?.seq ?? after,
        nextAfterEvent: events.at(-1)?.eventSeq ?? afterEvent,
        nextSince: String(this.ephemeral.length),
        hasMore: false,
      });
    }
    if (method === 'GET' && /^\/v1\/chats\/ch_[a-z0-9]+$/.test(path)) {
      const log = this.events.get(chatId) ?? [];
      return reply(200, chat(chatId, { lastSeq: this.stored(chatId).length, lastEventSeq: log.length }));
    }
    if (method === 'POST' && (path.endsWith('/typing') || path.endsWith('/read'))) return reply(202, {});
    return fail(404, 'not_found', 'route not found');
  };

  /** The WebSocket constructor handed to the client. */
  get WebSocket(): new (url: string) => WebSocketLike {
    const backend = (): FakeBackend => this;
    return class extends FakeSocket {
      constructor(url: string) {
        super(url, backend());
        backend().sockets.push(this);
      }
    };
  }

  /** Handles a frame the way the WebSocket API does; returns the reply (or nothing). */
  answer(socket: FakeSocket, frame: Record<string, unknown>): unknown {
    const requestId = frame.requestId;
    const ack = (data: unknown = {}) => ({
      type: 'ack',
      id: `ack-${String(requestId)}`,
      requestId,
      at: '',
      data,
    });
    switch (frame.action) {
      case 'subscribe': {
        // Like the server: each chat's positions, read once the subscriptions exist; one chat (`chatId`)
        // acks with its fields as the data, several (`chats`) with one entry each in `data.chats`.
        const wanted = Array.isArray(frame.chats)
          ? (frame.chats as { chatId: string; after?: number }[])
          : [{ chatId: String(frame.chatId), after: frame.after as number | undefined }];
        this.subscribeFrames.push(wanted.map(({ chatId }) => chatId));
        const entries = wanted.map(({ chatId, after }) => {
          socket.subscribed.add(chatId);
          const lastEventSeq = this.events.get(chatId)?.length ?? 0;
          const stored = this.stored(chatId);
          const positions = { chatId, lastSeq: stored.length, lastEventSeq };
          if (typeof after !== 'number' || this.ackMessages === 0) return positions;
          const messages = stored.slice(after, after + this.ackMessages);
          return { ...positions, messages, hasMore: after + messages.length < stored.length };
        });
        if (Array.isArray(frame.chats)) return ack({ subscribed: true, chats: entries });
        const [{ chatId, ...positions }] = entries as [(typeof entries)[number]];
        return { ...ack({ subscribed: true, ...positions }), chatId };
      }
      case 'unsubscribe':
        socket.subscribed.delete(String(frame.chatId));
        return ack();
      case 'watchChats':
        socket.watching = true;
        return ack();
      case 'unwatchChats':
        socket.watching = false;
        return ack();
      case 'ping':
        return this.answerPings
          ? { type: 'pong', id: `pong-${String(requestId)}`, requestId, at: '', data: {} }
          : undefined;
      case 'sendMessage': {
        const sent = this.#send(String(frame.chatId), frame as { clientMessageId: string }, socket);
        return { ...ack(sent), seq: sent.message.seq };
      }
      default:
        return ack();
    }
  }
}

export class FakeSocket implements WebSocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  readonly frames: Record<string, unknown>[] = [];
  readonly subscribed = new Set<string>();
  watching = false;
  opened = false;
  closed = false;
  /** Frames (and their replies) are logged here in the order the server saw them. */
  readonly mode: SocketMode;

  constructor(
    readonly url: string,
    private readonly backend: FakeBackend,
  ) {
    this.mode = backend.socketMode;
    setTimeout(() => {
      if (this.closed) return;
      if (this.mode === 'refuse') return this.drop();
      if (this.mode === 'hang') return;
      this.opened = true;
      this.onopen?.({});
    }, 0);
  }

  get isOpen(): boolean {
    return this.opened && !this.closed;
  }

  send(data: string): void {
    if (!this.isOpen) throw new Error('not open');
    const frame = JSON.parse(data) as Record<string, unknown>;
    this.frames.push(frame);
    const chatIds = Array.isArray(frame.chats)
      ? (frame.chats as { chatId: string }[]).map(({ chatId }) => chatId).join(' ')
      : String(frame.chatId ?? '');
    this.backend.requests.push(`WS ${String(frame.action)} ${chatIds}`.trim());
    if (this.mode === 'mute') return;
    const reply = this.backend.answer(this, frame);
    if (reply) this.deliver(reply);
  }

  deliver(envelope: unknown): void {
    setTimeout(() => this.isOpen && this.onmessage?.({ data: JSON.stringify(envelope) }), 0);
  }

  /** The server (or the network) drops the connection. */
  drop(): void {
    this.closed = true;
    this.onclose?.({ code: 1006 });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    setTimeout(() => this.onclose?.({ code: 1000 }), 0);
  }
}

/** In-memory BroadcastChannel: messages reach the other instances of the same name, asynchronously. */
export const channelBus = () => {
  const channels = new Map<string, Set<FakeChannel>>();
  class FakeChannel implements BroadcastChannelLike {
    onmessage: ((event: { data: unknown }) => void) | null = null;
    constructor(readonly name: string) {
      const set = channels.get(name) ?? new Set();
      set.add(this);
      channels.set(name, set);
    }
    postMessage(data: unknown): void {
      const copy = structuredClone(data);
      for (const other of channels.get(this.name) ?? []) {
        if (other !== this) setTimeout(() => other.onmessage?.({ data: copy }), 0);
      }
    }
    close(): void {
      channels.get(this.name)?.delete(this);
    }
  }
  return FakeChannel;
};

/** In-memory Web Locks: exclusive, granted in request order, released when the callback settles. */
export class FakeLocks implements LocksLike {
  readonly #held = new Set<string>();
  readonly #queue: { name: string; signal?: AbortSignal; grant: () => void }[] = [];

  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => Promise<unknown>,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        this.#held.add(name);
        Promise.resolve()
          .then(callback)
          .then(resolve, reject)
          .finally(() => {
            this.#held.delete(name);
            this.#next(name);
          });
      };
      options.signal?.addEventListener('abort', () => {
        const index = this.#queue.findIndex((entry) => entry.grant === grant);
        if (index >= 0) {
          this.#queue.splice(index, 1);
          reject(new Error('aborted'));
        }
      });
      if (this.#held.has(name)) this.#queue.push({ name, ...options, grant });
      else grant();
    });
  }

  #next(name: string): void {
    const index = this.#queue.findIndex((entry) => entry.name === name);
    if (index < 0) return;
    const [entry] = this.#queue.splice(index, 1);
    entry?.grant();
  }
}

export const memoryStorage = (): StorageLike & { data: Map<string, string> } => {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
};

export const FAST: Timing = {
  requestTimeoutMs: 1_000,
  pingMs: 60_000,
  maxConnectionMs: 3_600_000,
  openTimeoutMs: 300,
  minBackoffMs: 1,
  maxBackoffMs: 5,
  failuresBeforePolling: 2,
  probeMs: 20,
  pollWaitSeconds: 0,
  heartbeatMs: 20,
};

/** Waits for a condition (not for a time): fails with `what` after five seconds. */
export const until = async (condition: () => boolean, what: string, ms = 5_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
};

/** Waits until no request is in flight and what their answers started has run (a turn of the loop). */
export const settled = async (backend: FakeBackend): Promise<void> => {
  await until(() => backend.inFlight === 0, 'the requests in flight');
  for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setTimeout(resolve, 0));
};

/** A client on the fake backend, recording the messages and statuses it emits. */
export const makeClient = (
  backend: FakeBackend,
  options: Partial<ChatClientOptions> & { timing?: Partial<Timing> } = {},
) => {
  const client = new ChatClient({
    httpUrl: 'http://api.test',
    token: 'token',
    WebSocket: backend.WebSocket,
    fetch: backend.fetch as typeof fetch,
    storage: memoryStorage(),
    ...options,
    timing: { ...FAST, ...options.timing },
  });
  const seen: number[] = [];
  /** What was emitted, per chat. */
  const seenIn: Record<string, number[]> = {};
  const statuses: string[] = [];
  client.on('message', (m) => {
    seen.push(m.seq);
    (seenIn[m.chatId] ??= []).push(m.seq);
  });
  client.on('status', (s) => statuses.push(s));
  client.on('error', () => {});
  return { client, seen, seenIn, statuses };
};

/**
 * Two tabs of one user on the fake backend (one tab election, one storage), connected and subscribed to
 * CHAT; each collects what it emits as `event`.
 */
export const twoTabs = async <E extends keyof ChatEvents>(
  backend: FakeBackend,
  fetch: ChatClientOptions['fetch'],
  event: E,
) => {
  const shared = {
    fetch,
    tabs: true,
    storageKey: 'chat:demo:v_1',
    storage: memoryStorage(),
    BroadcastChannel: channelBus(),
    locks: new FakeLocks(),
  };
  const tabs = [makeClient(backend, shared).client, makeClient(backend, shared).client];
  const heard = tabs.map(() => [] as ChatEvents[E][]);
  tabs.forEach((tab, i) => tab.on(event, (value) => heard[i]?.push(value)));
  await Promise.all(tabs.map((tab) => tab.connect()));
  await Promise.all(tabs.map((tab) => tab.subscribe(CHAT)));
  return { tabs, heard };
};
