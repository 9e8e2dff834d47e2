/**
 * The chaos run: a local cloud with a fault plan, receivers that are the browser SDK itself (web/sdk,
 * over the `ws` package: it reconnects, subscribes, waits for the acks and catches up with `after=` as in
 * a browser), senders that retry each message with its clientMessageId until it is acknowledged; then a
 * final catch-up, a read-back of every chat and the failure queue, for the checker (checker.ts).
 */
import { writeFileSync } from 'node:fs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import WebSocket from 'ws';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { type FaultPlan, seededRandom } from '../../infra/local/faults.ts';
import { ChatClient, type WebSocketFactory } from '../../web/sdk/index.ts';
import { callRetried, captureConsole, mapInOrder, memoryStorage, ok, readChat, sleep } from './http.ts';
import {
  type ChaosHistory,
  type ChaosVerdict,
  type ChatHistory,
  checkChaos,
  type ClientHistory,
  type Reception,
  type TerminalRecord,
} from './checker.ts';

export interface ChaosOptions {
  readonly messages: number;
  readonly chats: number;
  /** Receiving clients (each one SDK client with one socket, in `perChat` of the chats on average). */
  readonly clients: number;
  /** Receivers per chat. */
  readonly perChat: number;
  readonly seed: number;
  /** No plan: a healthy local cloud. */
  readonly plan?: FaultPlan;
  /** Messages per second, all chats together. */
  readonly rate: number;
  /** Sends in flight at most. */
  readonly concurrency: number;
  readonly livenessMs: number;
  /** Console output of the cloud and the SDK goes to this file instead of the terminal (or is dropped). */
  readonly logFile?: string;
  readonly progress?: (line: string) => void;
}

export const CHAOS_DEFAULTS: ChaosOptions = {
  messages: 2_000,
  chats: 20,
  clients: 20,
  perChat: 3,
  seed: 1,
  rate: 15,
  concurrency: 16,
  livenessMs: 10_000,
};

export interface ChaosResult {
  readonly verdict: ChaosVerdict;
  readonly faults: Record<string, number>;
  readonly elapsedMs: number;
  /** Push frames carrying a message that reached the clients' sockets (duplicates included). */
  readonly pushedFrames: number;
  readonly consoleLines: number;
  /** Times clients went from connected to not connected, and the longest they stayed so (ms). */
  readonly reconnects: { readonly count: number; readonly longestMs: number };
  /** The SDK clients' `error` events, by status and code (e.g. `503 busy`, `0 timeout`). */
  readonly sdkErrors: Record<string, number>;
}

export const runChaos = async (options: ChaosOptions): Promise<ChaosResult> => {
  const started = Date.now();
  const progress = options.progress ?? (() => {});
  const random = seededRandom(options.seed);
  if (options.logFile) writeFileSync(options.logFile, '');
  const captured = captureConsole(options.logFile);
  let cloud: LocalCloud | undefined;
  const clients: ChatClient[] = [];
  try {
    progress('starting the local cloud…');
    cloud = await startLocalCloud({
      webPort: 0,
      httpPort: 0,
      wsPort: 0,
      faults: options.plan ? { ...options.plan, seed: options.plan.seed ?? options.seed } : null,
      log: (line) => console.error(line),
    });
    const base = cloud.urls.http;
    const token = async (userId: string): Promise<string> =>
      (
        await ok(
          callRetried(
            base,
            'POST',
            '/v1/dev/tokens',
            undefined,
            { tenantId: 'demo', userId, role: 'user' },
            random,
          ),
          'POST /v1/dev/tokens',
        )
      ).token as string;

    // Chats: chat c has `perChat` receivers (round robin over the clients) and one sender.
    progress(`creating ${options.chats} chats and ${options.clients} clients…`);
    const receivers = Array.from({ length: options.clients }, (_, index) => `chaos-r${index}`);
    const receiverTokens = await Promise.all(receivers.map(token));
    const chats: { chatId: string; senderToken: string; receivers: number[] }[] = [];
    await mapInOrder(options.chats, 8, async (c) => {
      const senderToken = await token(`chaos-s${c}`);
      const members = [
        ...new Set(
          Array.from({ length: options.perChat }, (_, j) => (c * options.perChat + j) % options.clients),
        ),
      ];
      const created = await ok(
        callRetried(
          base,
          'POST',
          '/v1/chats',
          senderToken,
          { participants: members.map((m) => receivers[m]) },
          random,
        ),
        'POST /v1/chats',
      );
      chats[c] = { chatId: created.chatId as string, senderToken, receivers: members };
    });

    // Receivers: the SDK, subscribed to each of their chats before the first send.
    let pushedFrames = 0;
    class CountingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        this.on('message', (data: Buffer) => {
          if (data.includes('"message.created"')) pushedFrames += 1;
        });
      }
    }
    const histories: (ClientHistory & { received: Reception[] })[] = [];
    const sdkErrors: Record<string, number> = {};
    await Promise.all(
      receivers.map(async (userId, index) => {
        const client = new ChatClient({
          httpUrl: base,
          token: receiverTokens[index] as string,
          WebSocket: CountingWebSocket as unknown as WebSocketFactory,
          fetch: globalThis.fetch,
          storage: memoryStorage(),
          storageKey: `chaos:${userId}`,
          tabs: false,
          transport: 'auto',
        });
        clients[index] = client;
        const chatIds = chats.filter((chat) => chat.receivers.includes(index)).map((chat) => chat.chatId);
        const connected: [number, number | undefined][] = [];
        const history = { clientId: userId, chatIds, received: [] as Reception[], connected };
        client.on('status', (status) => {
          const open = connected.at(-1);
          const isConnected = status === 'live' || status === 'polling';
          if (isConnected && (!open || open[1] !== undefined)) connected.push([Date.now(), undefined]);
          else if (!isConnected && open && open[1] === undefined) open[1] = Date.now();
        });
        if (process.env.CHAOS_DEBUG)
          client.on('status', (status) =>
            process.stderr.write(`${Date.now() - started} ${userId} ${status}\n`),
          );
        histories[index] = history;
        client.on('error', (error) => {
          const { status, code } = error as { status?: number; code?: string };
          const key = `${status ?? '?'} ${code ?? (error instanceof Error ? error.name : 'error')}`;
          sdkErrors[key] = (sdkErrors[key] ?? 0) + 1;
        });
        client.on('message', (message) =>
          history.received.push({
            chatId: message.chatId,
            seq: message.seq,
            clientMessageId: message.clientMessageId,
            at: Date.now(),
            final: false,
          }),
        );
        await client.connect();
        for (const chatId of chatIds) await client.subscribe(chatId);
      }),
    );

    // Senders: `rate` messages a second over random chats, each retried with its clientMessageId.
    progress(`sending ${options.messages} messages at ${options.rate}/s…`);
    const acked = new Map<string, string[]>(chats.map((chat) => [chat.chatId, []]));
    const sends = { attempted: 0, retried: 0, failed: 0 };
    /** When each send was acknowledged: its commit happened just before (see checker.StoredMessage). */
    const ackedAt = new Map<string, number>();
    const plan = Array.from({ length: options.messages }, (_, index) => ({
      chat: chats[Math.floor(random() * chats.length)] as (typeof chats)[number],
      clientMessageId: `chaos-${options.seed}-${index}`,
    }));
    let next = 0;
    const sendStart = Date.now();
    let lastAck = Date.now();
    const sender = async (): Promise<void> => {
      while (next < plan.length) {
        const index = next++;
        const job = plan[index] as (typeof plan)[number];
        const due = sendStart + (index * 1000) / options.rate;
        if (due > Date.now()) await sleep(due - Date.now());
        sends.attempted += 1;
        const answer = await callRetried(
          base,
          'POST',
          `/v1/chats/${job.chat.chatId}/messages`,
          job.chat.senderToken,
          { clientMessageId: job.clientMessageId, type: 'text', text: `chaos ${index}` },
          random,
          () => (sends.retried += 1),
        );
        if (answer.status === 200 || answer.status === 201) {
          acked.get(job.chat.chatId)?.push(job.clientMessageId);
          ackedAt.set(job.clientMessageId, Date.now());
          lastAck = Date.now();
        } else {
          sends.failed += 1;
          console.error(
            `send ${job.clientMessageId} failed for good: ${answer.status} ${JSON.stringify(answer.body)}`,
          );
        }
        if ((index + 1) % 500 === 0) progress(`  ${index + 1} sent`);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, sender));

    // Drain: until every client has every acknowledged message of its chats, or the liveness bound
    // (plus a margin) has passed since the last acknowledgement. The final catch-up is not counted live.
    progress('waiting for deliveries…');
    const missing = (): number => {
      let count = 0;
      for (const history of histories) {
        const got = new Set(history.received.map((reception) => reception.clientMessageId));
        for (const chatId of history.chatIds)
          for (const id of acked.get(chatId) ?? []) if (!got.has(id)) count += 1;
      }
      return count;
    };
    while (missing() > 0 && Date.now() - lastAck < options.livenessMs + 5_000) await sleep(100);
    await cloud.idle();

    // Final catch-up: what each client lacks after its last seq, as the SDK would fetch it.
    progress('final catch-up and read-back…');
    await Promise.all(
      histories.map(async (history, index) => {
        const client = clients[index] as ChatClient;
        client.close();
        for (const chatId of history.chatIds) {
          const after = client.lastSeq(chatId) ?? 0;
          const { messages } = await readChat(base, chatId, receiverTokens[index] as string, after, random);
          for (const message of messages)
            if (!message.void)
              history.received.push({
                chatId,
                seq: message.seq,
                clientMessageId: message.clientMessageId,
                at: Date.now(),
                final: true,
              });
        }
      }),
    );

    const chatHistories: ChatHistory[] = [];
    for (const chat of chats) {
      const detail = await ok(
        callRetried(base, 'GET', `/v1/chats/${chat.chatId}`, chat.senderToken, undefined, random),
        'GET chat',
      );
      const { messages } = await readChat(base, chat.chatId, chat.senderToken, 0, random);
      chatHistories.push({
        chatId: chat.chatId,
        stored: messages.map((message) => ({
          ...message,
          // The sender's acknowledgement; a void (or an unacknowledged message): its createdAt.
          committedAt: ackedAt.get(message.clientMessageId) ?? message.committedAt,
          createdAt: message.committedAt,
        })),
        acked: acked.get(chat.chatId) ?? [],
        ...(typeof detail.lastSeq === 'number' ? { lastSeq: detail.lastSeq } : {}),
      });
    }

    const terminal: TerminalRecord[] = cloud.failures().flatMap((failure) =>
      failure.records.map((record) => {
        const image = record.dynamodb?.NewImage;
        const item = image ? unmarshall(image as Record<string, AttributeValue>) : {};
        return {
          consumer: failure.consumer,
          ...(item.entity === 'message' && typeof item.chatId === 'string' && typeof item.seq === 'number'
            ? { message: { chatId: item.chatId, seq: item.seq } }
            : {}),
        };
      }),
    );

    const history: ChaosHistory = {
      chats: chatHistories,
      clients: histories,
      terminal,
      sends,
      livenessMs: options.livenessMs,
    };
    const gaps = histories.flatMap((client) =>
      (client.connected ?? []).flatMap(([, to], index, all) => {
        const reopened = all[index + 1]?.[0];
        return to !== undefined && reopened !== undefined ? [reopened - to] : [];
      }),
    );
    return {
      verdict: checkChaos(history),
      reconnects: { count: gaps.length, longestMs: Math.max(0, ...gaps) },
      sdkErrors,
      faults: cloud.faultCounts(),
      elapsedMs: Date.now() - started,
      pushedFrames,
      consoleLines: captured.lines(),
    };
  } finally {
    for (const client of clients) client?.close();
    await cloud?.stop();
    captured.restore();
  }
};
