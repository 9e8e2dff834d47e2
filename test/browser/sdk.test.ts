/**
 * The browser SDK (web/sdk/client.js) against a scripted fake of the API and the socket: the delivery
 * rules a widget relies on (order, duplicates, gaps, reconnect with a new ticket, idempotent retries)
 * without a browser or a server, so each rule is pinned down exactly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient, type Message, type WebSocketLike } from '../../web/sdk/client.js';

const CHAT = 'ch_aaaaaaaaaaaaaaaaaaaa';

const message = (seq: number, text = `m${seq}`): Message => ({
  messageId: `m_${seq}`,
  chatId: CHAT,
  tenantId: 'demo',
  seq,
  clientMessageId: `c${seq}`,
  senderId: 'v_1',
  senderRole: 'visitor',
  type: 'text',
  text,
  createdAt: new Date(0).toISOString(),
});
const created = (m: Message) => ({
  type: 'message.created',
  id: `${m.chatId}:${m.seq}:created`,
  chatId: m.chatId,
  seq: m.seq,
  at: m.createdAt,
  data: m,
});

/** A fake backend: the stored messages, the tickets issued, the requests seen, and the open sockets. */
class FakeBackend {
  stored: Message[] = [];
  tickets = 0;
  requests: string[] = [];
  sockets: FakeSocket[] = [];
  failNextSends = 0;
  pageSize = 2;

  readonly fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(String(input));
    const method = init?.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status });
    if (method === 'POST' && url.pathname === '/v1/realtime/tickets') {
      this.tickets += 1;
      return reply(201, { ticket: `ticket-${this.tickets}`, url: 'ws://fake', expiresAt: '' });
    }
    if (method === 'GET' && url.pathname.endsWith('/messages')) {
      const after = Number(url.searchParams.get('after'));
      const rest = this.stored.filter((m) => m.seq > after);
      const items = rest.slice(0, this.pageSize);
      const more = rest.length > items.length;
      return reply(200, { items, ...(more ? { nextCursor: String(items.at(-1)?.seq) } : {}) });
    }
    if (method === 'POST' && url.pathname.endsWith('/messages')) {
      if (!url.pathname.includes(CHAT))
        return reply(403, { error: { code: 'forbidden', message: 'not yours' } });
      if (this.failNextSends > 0) {
        this.failNextSends -= 1;
        return reply(503, { error: { code: 'busy', message: 'retry with the same clientMessageId' } });
      }
      const body = JSON.parse(String(init?.body)) as { clientMessageId: string; text: string };
      const existing = this.stored.find((m) => m.clientMessageId === body.clientMessageId);
      if (existing) return reply(200, existing);
      const stored = { ...message(this.stored.length + 1, body.text), clientMessageId: body.clientMessageId };
      this.stored.push(stored);
      return reply(201, stored);
    }
    return reply(404, { error: { code: 'not_found', message: 'route not found' } });
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

  get socket(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket yet');
    return socket;
  }
}

/** Opens on the next tick and answers `subscribe` with an ack carrying the chat's last seq. */
class FakeSocket implements WebSocketLike {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  onclose: ((event: unknown) => void) | null = null;
  readonly frames: Record<string, unknown>[] = [];
  closed = false;

  constructor(
    readonly url: string,
    private readonly backend: FakeBackend,
  ) {
    setTimeout(() => this.onopen?.({}), 0);
  }

  send(data: string): void {
    const frame = JSON.parse(data) as Record<string, unknown>;
    this.frames.push(frame);
    if (frame.action === 'subscribe') {
      const lastSeq = this.backend.stored.at(-1)?.seq ?? 0;
      this.deliver({
        type: 'ack',
        id: `ack-${this.frames.length}`,
        requestId: frame.requestId,
        data: { lastSeq },
      });
    }
  }

  deliver(envelope: unknown): void {
    setTimeout(() => this.onmessage?.({ data: JSON.stringify(envelope) }), 0);
  }

  /** The server drops the connection. */
  drop(): void {
    this.closed = true;
    this.onclose?.({ code: 1006 });
  }

  close(): void {
    this.closed = true;
    setTimeout(() => this.onclose?.({ code: 1000 }), 0);
  }
}

const until = async (condition: () => boolean, what: string): Promise<void> => {
  const deadline = Date.now() + 2_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

describe('the browser SDK', () => {
  const clients: ChatClient[] = [];
  const setup = () => {
    const backend = new FakeBackend();
    const client = new ChatClient({
      httpUrl: 'http://api.test',
      token: 'token',
      WebSocket: backend.WebSocket,
      fetch: backend.fetch as typeof fetch,
      minBackoffMs: 1,
      maxBackoffMs: 5,
    });
    const seen: number[] = [];
    client.on('message', (m) => seen.push(m.seq));
    clients.push(client);
    return { backend, client, seen };
  };

  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  it('emits the history page by page, then live messages, in seq order and each once', async () => {
    // Prepare: three stored messages, fetched two per page.
    const { backend, client, seen } = setup();
    backend.stored = [message(1), message(2), message(3)];
    await client.connect();

    // Act: subscribe, then the socket delivers seq 4 twice (at-least-once) and an old one again.
    await client.subscribe(CHAT);
    backend.stored.push(message(4));
    backend.socket.deliver(created(message(4)));
    backend.socket.deliver(created(message(4)));
    backend.socket.deliver(created(message(2)));
    await until(() => seen.length >= 4, 'seq 4');
    await new Promise((resolve) => setTimeout(resolve, 20));

    // Assess
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(backend.requests.filter((r) => r.startsWith('GET'))).toEqual([
      `GET /v1/chats/${CHAT}/messages?after=0&limit=100`,
      `GET /v1/chats/${CHAT}/messages?after=2&limit=100`,
    ]);
  });

  it('holds back a message that arrives early and fetches the gap before it', async () => {
    // Prepare
    const { backend, client, seen } = setup();
    backend.stored = [message(1)];
    await client.connect();
    await client.subscribe(CHAT);

    // Act: seq 2 and 3 are stored, but only 3 reaches the socket.
    backend.stored.push(message(2), message(3));
    backend.socket.deliver(created(message(3)));
    await until(() => seen.length >= 3, 'seq 3');

    // Assess
    expect(seen).toEqual([1, 2, 3]);
    expect(backend.requests).toContain(`GET /v1/chats/${CHAT}/messages?after=1&limit=100`);
  });

  it('reconnects with a new ticket after a drop, resubscribes and fetches only what it missed', async () => {
    // Prepare
    const { backend, client, seen } = setup();
    backend.stored = [message(1), message(2)];
    const statuses: string[] = [];
    client.on('status', (status) => statuses.push(status));
    await client.connect();
    await client.subscribe(CHAT);
    const first = backend.socket;

    // Act: the server drops the socket; two messages are stored meanwhile.
    first.drop();
    backend.stored.push(message(3), message(4));
    await until(() => seen.length >= 4, 'the missed messages');

    // Assess
    expect(seen).toEqual([1, 2, 3, 4]);
    expect(backend.sockets.map((socket) => socket.url)).toEqual([
      'ws://fake?ticket=ticket-1',
      'ws://fake?ticket=ticket-2',
    ]);
    expect(backend.socket.frames.map((frame) => [frame.action, frame.chatId])).toEqual([['subscribe', CHAT]]);
    expect(backend.requests.at(-1)).toBe(`GET /v1/chats/${CHAT}/messages?after=2&limit=100`);
    expect(statuses).toEqual(['connecting', 'open', 'reconnecting', 'open']);
  });

  it('retries a failed send with the same clientMessageId and stores the message once', async () => {
    // Prepare: no socket (sent over HTTP); the first two attempts answer 503.
    const { backend, client } = setup();
    backend.failNextSends = 2;

    // Act
    const sent = await client.send(CHAT, 'hello', { clientMessageId: 'cm-1' });

    // Assess
    const posts = backend.requests.filter((r) => r.startsWith('POST') && r.endsWith('/messages'));
    expect(posts).toHaveLength(3);
    expect(sent).toMatchObject({ clientMessageId: 'cm-1', seq: 1, text: 'hello' });
    expect(backend.stored).toHaveLength(1);
  });

  it('does not retry a send the API refused', async () => {
    // Prepare
    const { backend, client } = setup();

    // Act
    const sending = client.send('ch_someoneelsesxxxxxx', 'hello');

    // Assess
    await expect(sending).rejects.toMatchObject({ status: 403, code: 'forbidden' });
    expect(backend.requests.filter((r) => r.startsWith('POST'))).toHaveLength(1);
  });
});
