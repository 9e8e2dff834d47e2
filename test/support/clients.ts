/** Test clients that speak only the public contract: HTTP with fetch, sockets with `ws`. */
import WebSocket from 'ws';
import { retry } from '../../web/sdk/backoff.ts';

export interface Envelope {
  type: string;
  leftFilter?: boolean;
  id: string;
  chatId?: string;
  at: string;
  seq?: number;
  requestId?: string;
  data: Record<string, unknown> & { clientMessageId?: string; text?: string };
}

export const api = (httpUrl: string) => {
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const response = await fetch(`${httpUrl}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  return {
    call,
    /** A call that must succeed (2xx): its body; otherwise it throws, naming the status. */
    ok: async <T>(method: string, path: string, token?: string, body?: unknown): Promise<T> => {
      const response = await call(method, path, token, body);
      if (response.status < 200 || response.status > 299)
        throw new Error(`${method} ${path} → ${response.status} ${JSON.stringify(response.body)}`);
      return response.body as T;
    },
    token: async (tenantId: string, userId: string, role: string) =>
      (await call('POST', '/v1/dev/tokens', undefined, { tenantId, userId, role })).body
        .token as unknown as string,
    ticket: async (token: string) =>
      (await call('POST', '/v1/realtime/tickets', token)).body as unknown as { ticket: string; url: string },
    /** POST /v1/chats, which must answer 201; the new chat's id. */
    createChat: async (token: string, body: unknown): Promise<string> => {
      const response = await call('POST', '/v1/chats', token, body);
      if (response.status !== 201)
        throw new Error(`POST /v1/chats: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.chatId as string;
    },
  };
};

/** The chat ids of a list answer (`{ items: [{ chatId }] }`), in order. */
export const chatIdsOf = (body: Record<string, unknown>): string[] =>
  (body.items as { chatId: string }[]).map((chat) => chat.chatId);

/** A socket that records every envelope and lets a test wait for the ones it expects. */
export class TestSocket {
  readonly received: Envelope[] = [];
  private waiters: { match: (e: Envelope) => boolean; resolve: (e: Envelope) => void }[] = [];
  private closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const envelope = JSON.parse(String(data)) as Envelope;
      this.received.push(envelope);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(envelope)) return true;
        waiter.resolve(envelope);
        return false;
      });
    });
    this.closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)));
  }

  /** Opens a socket with a ticket; rejects with the HTTP status if the upgrade is refused. */
  static open(url: string): Promise<TestSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const socket = new TestSocket(ws);
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_request, response) =>
        reject(new Error(`upgrade refused: ${response.statusCode}`)),
      );
      ws.once('error', reject);
    });
  }

  next(match: (e: Envelope) => boolean, timeoutMs = 5000): Promise<Envelope> {
    const seen = this.received.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for an envelope')), timeoutMs);
      this.waiters.push({
        match,
        resolve: (envelope) => {
          clearTimeout(timer);
          resolve(envelope);
        },
      });
    });
  }

  /** Sends a frame and waits for the reply carrying its requestId. */
  async request(frame: Record<string, unknown>, timeoutMs = 5000): Promise<Envelope> {
    const requestId = `r-${Math.random().toString(36).slice(2)}`;
    const reply = this.next((e) => e.requestId === requestId, timeoutMs);
    this.ws.send(JSON.stringify({ ...frame, requestId }));
    return reply;
  }

  messages(chatId: string): Envelope[] {
    return this.received.filter((e) => e.type === 'message.created' && e.chatId === chatId);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }
}

/** A new connection refused with 429: the local cloud sheds them while overloaded (infra/local/load-gauge.ts). */
export class Shed extends Error {}

/**
 * Runs `open` until it is not refused with `Shed`, sleeping the SDK's jittered backoff between tries (the
 * SDK's own `retry`), as the SDK retries a 429; the eleventh refusal in a row, or any other error, throws.
 */
export const whileShed = <T>(open: () => Promise<T>): Promise<T> => {
  let refusals = 0;
  return retry(open, {
    minMs: 200,
    maxMs: 3_000,
    retryable: (error) => error instanceof Shed && ++refusals <= 10,
  });
};

/** Ticket, upgrade and `connection.ready`; a ticket or upgrade refused with 429 is tried again (`whileShed`). */
export const connect = (client: ReturnType<typeof api>, token: string): Promise<TestSocket> =>
  whileShed(async () => {
    const response = await client.call('POST', '/v1/realtime/tickets', token);
    if (response.status === 429) throw new Shed('ticket refused with 429');
    const { ticket, url } = response.body as { ticket: string; url: string };
    const socket = await TestSocket.open(`${url}?ticket=${encodeURIComponent(ticket)}`).catch(
      (error: unknown) => {
        throw error instanceof Error && error.message === 'upgrade refused: 429'
          ? new Shed(error.message)
          : error;
      },
    );
    await socket.next((e) => e.type === 'connection.ready');
    return socket;
  });

export const until = async (check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
};
