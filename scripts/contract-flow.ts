/**
 * The public contract's main flow, end to end, from the outside: plain fetch and the `ws` package, no
 * code of the project. visitor → chat → tickets → sockets → messages both ways → the visitor's socket
 * drops → the agent sends more → the visitor reconnects with a new ticket and catches up with
 * `after=<last seq>` → a reused ticket is refused.
 *
 *   npx tsx scripts/contract-flow.ts            # against the local cloud (npm start)
 *   CHAT_HTTP_URL=https://… CHAT_TENANT=acme CHAT_AGENT_TOKEN=… npx tsx scripts/contract-flow.ts
 *
 * Without CHAT_AGENT_TOKEN the agent's token comes from POST /v1/dev/tokens (local cloud only).
 * Exits 0 with a summary, or 1 naming the step that failed.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';

export interface ContractFlowOptions {
  readonly httpUrl: string;
  readonly tenantId?: string;
  /** An agent token of the tenant; default: minted by POST /v1/dev/tokens. */
  readonly agentToken?: string;
  /** How long to wait for any single expected frame. */
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface ContractFlowResult {
  readonly chatId: string;
  readonly steps: readonly { name: string; ms: number }[];
  /** Envelopes received again with an id already seen (allowed: delivery is at-least-once). */
  readonly duplicates: number;
  readonly totalMs: number;
}

export class ContractFlowError extends Error {
  constructor(
    readonly step: string,
    cause: unknown,
  ) {
    super(`step "${step}" failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ContractFlowError';
  }
}

interface Envelope {
  type: string;
  id: string;
  chatId?: string;
  seq?: number;
  requestId?: string;
  data: Record<string, unknown>;
}

interface Message {
  messageId: string;
  chatId: string;
  seq: number;
  clientMessageId: string;
  senderId: string;
  text: string;
}

interface MessagePage {
  items: Message[];
  nextCursor?: string;
}

class Check extends Error {}
const check: (condition: unknown, message: string) => asserts condition = (condition, message) => {
  if (!condition) throw new Check(message);
};

const api = async <T>(
  httpUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; expect?: number[] } = {},
): Promise<{ status: number; body: T }> => {
  const response = await fetch(`${httpUrl}${path}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  const expect = options.expect ?? [200, 201];
  check(
    expect.includes(response.status),
    `${method} ${path} answered ${response.status}: ${text.slice(0, 300)}`,
  );
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
};

/** One socket: every envelope it received, duplicates by envelope id counted and dropped. */
class Socket {
  readonly envelopes: Envelope[] = [];
  duplicates = 0;
  private readonly seen = new Set<string>();
  private waiters: (() => void)[] = [];

  private constructor(
    private readonly ws: WebSocket,
    private readonly timeoutMs: number,
  ) {
    ws.on('message', (data) => {
      const envelope = JSON.parse(String(data)) as Envelope;
      if (this.seen.has(envelope.id)) {
        this.duplicates += 1;
        return;
      }
      this.seen.add(envelope.id);
      this.envelopes.push(envelope);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Opens `${url}?ticket=` and waits for the upgrade; rejects with the HTTP status of a refusal. */
  static open(url: string, ticket: string, timeoutMs: number): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${url}${url.includes('?') ? '&' : '?'}ticket=${encodeURIComponent(ticket)}`);
      const socket = new Socket(ws, timeoutMs);
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_request, response) => {
        ws.terminate();
        reject(
          Object.assign(new Error(`upgrade refused with ${response.statusCode}`), {
            status: response.statusCode,
          }),
        );
      });
      ws.on('error', (error) => reject(error));
    });
  }

  send(frame: Record<string, unknown>): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Waits until an envelope matching `predicate` has arrived (or already has). */
  async waitFor(what: string, predicate: (envelope: Envelope) => boolean): Promise<Envelope> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const found = this.envelopes.find(predicate);
      if (found) return found;
      const left = deadline - Date.now();
      check(left > 0, `no ${what} within ${this.timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a frame with a fresh requestId and returns the `ack` echoing it (an `error` fails). */
  async request(frame: Record<string, unknown>): Promise<Envelope> {
    const requestId = randomUUID();
    this.send({ ...frame, requestId });
    const reply = await this.waitFor(`reply to ${String(frame.action)}`, (e) => e.requestId === requestId);
    check(
      reply.type === 'ack',
      `${String(frame.action)} answered ${reply.type}: ${JSON.stringify(reply.data)}`,
    );
    return reply;
  }

  /** The messages of a chat delivered so far, in arrival order. */
  messages(chatId: string): Message[] {
    return this.envelopes
      .filter((e) => e.type === 'message.created' && e.chatId === chatId)
      .map((e) => e.data as unknown as Message);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close(1000);
    });
  }
}

export const runContractFlow = async (options: ContractFlowOptions): Promise<ContractFlowResult> => {
  const httpUrl = options.httpUrl.replace(/\/$/, '');
  const tenantId = options.tenantId ?? 'demo';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const log = options.log ?? (() => {});
  const started = Date.now();
  const steps: { name: string; ms: number }[] = [];
  const sockets: Socket[] = [];
  const step = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const stepStarted = Date.now();
    try {
      const value = await run();
      steps.push({ name, ms: Date.now() - stepStarted });
      log(`ok  ${name} (${Date.now() - stepStarted} ms)`);
      return value;
    } catch (error) {
      log(`FAIL ${name}: ${error instanceof Error ? error.message : String(error)}`);
      throw new ContractFlowError(name, error);
    }
  };
  const ticketFor = (token: string) =>
    api<{ ticket: string; url: string; expiresAt: string }>(httpUrl, 'POST', '/v1/realtime/tickets', {
      token,
      expect: [200, 201],
    }).then(({ body }) => body);
  const connect = async (token: string, role: string) => {
    const { ticket, url } = await ticketFor(token);
    const socket = await Socket.open(url, ticket, timeoutMs);
    sockets.push(socket);
    const ready = await socket.waitFor('connection.ready', (e) => e.type === 'connection.ready');
    check(
      ready.data.role === role,
      `connection.ready names role ${String(ready.data.role)}, expected ${role}`,
    );
    return { socket, ticket };
  };
  /** Sends over the socket, returns the stored message from the ack. */
  /** What each socket sent, from its acks: a socket is not pushed its own messages (the ack carries them). */
  const said = new Map<Socket, Set<string>>();
  const say = async (socket: Socket, chatId: string, text: string): Promise<Message> => {
    const ack = await socket.request({ action: 'sendMessage', chatId, clientMessageId: randomUUID(), text });
    const message = ack.data.message as Message | undefined;
    check(message?.text === text && typeof message.seq === 'number', `the ack carries no stored message`);
    said.set(socket, (said.get(socket) ?? new Set()).add(message.messageId));
    return message;
  };
  /**
   * Waits for the chat's messages on a socket and checks it has exactly `all`, in order: pushed,
   * or (those it sent itself) in their acks, and never pushed back to it.
   */
  const receivesExactly = async (socket: Socket, chatId: string, all: Message[], who: string) => {
    const own = said.get(socket) ?? new Set<string>();
    const expected = all.filter((message) => !own.has(message.messageId));
    const last = expected.at(-1);
    if (last)
      await socket.waitFor(
        `${who}: message seq ${last.seq}`,
        (e) => e.type === 'message.created' && e.chatId === chatId && e.seq === last.seq,
      );
    await new Promise((resolve) => setTimeout(resolve, 200)); // anything extra would show up now
    // A tenant's greeting / away messages (seqs before the flow's first message) may or may not be pushed.
    const from = all[0]?.seq ?? 0;
    const got = socket
      .messages(chatId)
      .filter((m) => (m.seq ?? 0) >= from)
      .map((m) => `${m.seq}:${m.text}`);
    const want = expected.map((m) => `${m.seq}:${m.text}`);
    check(JSON.stringify(got) === JSON.stringify(want), `${who} received [${got}], expected [${want}]`);
  };

  try {
    const visitor = await step('a visitor of the tenant gets a token', async () => {
      const { status, body } = await api<{ visitorId: string; token: string }>(
        httpUrl,
        'POST',
        '/v1/visitors',
        {
          body: { tenantId, name: 'Contract Flow' },
        },
      );
      check(status === 201 && body.token && body.visitorId, 'POST /v1/visitors returned no token');
      return body;
    });

    const chat = await step('the visitor creates a chat', async () => {
      const { body } = await api<{ chatId: string; lastSeq: number; participants?: { userId: string }[] }>(
        httpUrl,
        'POST',
        '/v1/chats',
        { token: visitor.token, body: { subject: 'contract flow' } },
      );
      // 0, or the number of system messages the tenant's responder posted (greeting, away message).
      check(
        Number.isInteger(body.lastSeq) && body.lastSeq >= 0 && body.lastSeq <= 5,
        `a new chat has lastSeq ${body.lastSeq}`,
      );
      check(
        body.participants?.some((p) => p.userId === visitor.visitorId),
        'the visitor is not a participant of its chat',
      );
      return body;
    });
    const { chatId } = chat;
    const opening = chat.lastSeq;

    const agentToken = await step('an agent of the tenant has a token', async () => {
      if (options.agentToken) return options.agentToken;
      const { body } = await api<{ token: string }>(httpUrl, 'POST', '/v1/dev/tokens', {
        body: { tenantId, userId: `agent-${randomUUID().slice(0, 8)}`, role: 'agent' },
      });
      return body.token;
    });

    const visitorSide = await step('the visitor connects with a ticket and subscribes', async () => {
      const side = await connect(visitor.token, 'visitor');
      const ack = await side.socket.request({ action: 'subscribe', chatId });
      check(
        ack.data.lastSeq === opening,
        `subscribe ack lastSeq ${String(ack.data.lastSeq)}, expected ${opening}`,
      );
      return side;
    });

    const agentSide = await step('the agent connects with a ticket and subscribes to the chat', async () => {
      const side = await connect(agentToken, 'agent');
      const ack = await side.socket.request({ action: 'subscribe', chatId });
      check(
        ack.data.lastSeq === opening,
        `subscribe ack lastSeq ${String(ack.data.lastSeq)}, expected ${opening}`,
      );
      return side;
    });

    const exchanged = await step('messages go both ways, each side gets each once and in order', async () => {
      const sent = [
        await say(visitorSide.socket, chatId, 'Hello, I need help'),
        await say(agentSide.socket, chatId, 'Hi! How can I help?'),
        await say(visitorSide.socket, chatId, 'My order has not arrived'),
        await say(agentSide.socket, chatId, 'Let me check that for you'),
      ];
      check(
        sent.every((message, index) => message.seq === opening + index + 1),
        `seqs are [${sent.map((m) => m.seq)}], expected ${opening + 1}..${opening + 4}`,
      );
      await receivesExactly(visitorSide.socket, chatId, sent, 'the visitor');
      await receivesExactly(agentSide.socket, chatId, sent, 'the agent');
      return sent;
    });

    await step('sending again with the same clientMessageId returns the same message', async () => {
      const first = exchanged[0] as Message;
      const { status, body } = await api<Message>(httpUrl, 'POST', `/v1/chats/${chatId}/messages`, {
        token: visitor.token,
        body: { clientMessageId: first.clientMessageId, type: 'text', text: first.text },
      });
      check(status === 200, `the retry answered ${status}, expected 200`);
      check(
        body.messageId === first.messageId && body.seq === first.seq,
        'the retry created another message',
      );
    });

    const missed = await step('the visitor drops off and the agent sends 3 messages', async () => {
      await visitorSide.socket.close();
      const sent = [
        await say(agentSide.socket, chatId, 'Found it: it ships today'),
        await say(agentSide.socket, chatId, 'Tracking number follows'),
        await say(agentSide.socket, chatId, 'TRK-123456'),
      ];
      await receivesExactly(agentSide.socket, chatId, [...exchanged, ...sent], 'the agent');
      return sent;
    });

    const rejoined = await step(
      'the visitor reconnects with a new ticket and catches up after its last seq',
      async () => {
        const lastSeen = visitorSide.socket.messages(chatId).at(-1)?.seq ?? 0;
        const side = await connect(visitor.token, 'visitor');
        check(side.ticket !== visitorSide.ticket, 'the new ticket equals the old one');
        const ack = await side.socket.request({ action: 'subscribe', chatId });
        const expectedLast = missed.at(-1)?.seq;
        check(
          ack.data.lastSeq === expectedLast,
          `subscribe ack lastSeq ${String(ack.data.lastSeq)}, expected ${expectedLast}`,
        );
        const fetched: Message[] = [];
        let after: string | number = lastSeen;
        for (let page = 0; page < 10; page += 1) {
          const { body }: { body: MessagePage } = await api<MessagePage>(
            httpUrl,
            'GET',
            `/v1/chats/${chatId}/messages?after=${after}&limit=2`,
            { token: visitor.token },
          );
          fetched.push(...body.items);
          if (!body.nextCursor) break;
          after = body.nextCursor;
        }
        const got = fetched.map((m) => `${m.seq}:${m.text}`);
        const want = missed.map((m) => `${m.seq}:${m.text}`);
        check(
          JSON.stringify(got) === JSON.stringify(want),
          `after=${lastSeen} gave [${got}], expected [${want}]`,
        );
        return side;
      },
    );

    await step('live delivery resumes on the new socket', async () => {
      const next = await say(agentSide.socket, chatId, 'Anything else?');
      await receivesExactly(rejoined.socket, chatId, [next], 'the reconnected visitor');
    });

    await step('a ticket that was already used is refused with 401', async () => {
      const { url } = await ticketFor(visitor.token);
      const status = await Socket.open(url, visitorSide.ticket, timeoutMs).then(
        async (socket) => {
          await socket.close();
          return 101;
        },
        (error: { status?: number }) => error.status,
      );
      check(status === 401, `reusing a ticket answered ${String(status)}, expected 401`);
    });

    return {
      chatId,
      steps,
      duplicates: sockets.reduce((sum, socket) => sum + socket.duplicates, 0),
      totalMs: Date.now() - started,
    };
  } finally {
    await Promise.all(sockets.map((socket) => socket.close()));
  }
};

const main = async (): Promise<void> => {
  const httpUrl = process.env.CHAT_HTTP_URL ?? 'http://localhost:3001';
  console.log(`contract flow against ${httpUrl}`);
  try {
    const result = await runContractFlow({
      httpUrl,
      ...(process.env.CHAT_TENANT ? { tenantId: process.env.CHAT_TENANT } : {}),
      ...(process.env.CHAT_AGENT_TOKEN ? { agentToken: process.env.CHAT_AGENT_TOKEN } : {}),
      log: (line) => console.log(`  ${line}`),
    });
    console.log(
      `PASS: ${result.steps.length} steps in ${result.totalMs} ms (chat ${result.chatId}, ` +
        `${result.duplicates} duplicate envelope(s) dropped)`,
    );
    process.exit(0);
  } catch (error) {
    const step = error instanceof ContractFlowError ? error.step : 'setup';
    console.error(`FAIL at "${step}": ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
