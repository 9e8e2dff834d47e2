/**
 * `npm run bench`: end-to-end latency, throughput, delivery integrity and DynamoDB capacity of the real
 * handlers in the local cloud, against a bare `ws` relay (test/bench/relay.ts) under the same load.
 *
 * N clients in M chats (client i is in chat i mod M; a chat's participants are all its clients). Each
 * client subscribes to its chat, sends `warmup` unmeasured messages, then K measured messages in one of
 * three load shapes: `open` (one every interval ± jitter ms whatever the acks do; by default more than
 * the local cloud sustains on 2 cores), `light` (the same at a lower rate) and `closed` (the next one as
 * soon as the previous is acked). Every (message, receiving client) pair is timed from just before the
 * sender's `ws.send` to the receiver's `message` event, matched on clientMessageId. All clients, the
 * relay and the local cloud's gateways and handlers share this one Node process (DynamoDB Local is a
 * java child), so figures include event-loop contention; the relay pays it too.
 *
 * Options (argument, environment variable, default): `npm run bench -- --help`. Writes
 * bench-results/latest.json. Exit code 1 if any delivery was lost or duplicated, a seq was skipped or
 * repeated, a send failed or DynamoDB Local outlived the run. docs/benchmarks.md explains the output.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, platform, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import WebSocket, { type RawData } from 'ws';
import type { LocalCloud } from '../../infra/local/cloud.ts';
import { keys } from '../../shared/adapters/dynamo/keys.ts';
import { type CapacityRow, installCapacityMeter, itemBytes } from './capacity.ts';
import { type Relay, startRelay } from './relay.ts';

// Patches the DynamoDB clients' prototypes: every call of the in-process handlers is metered from here on.
const meter = installCapacityMeter();
const { startLocalCloud, DEMO_TENANT } = await import('../../infra/local/cloud.ts');

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

// ---- options -------------------------------------------------------------------------------------------

type Mode = 'open' | 'light' | 'closed';
type TargetName = 'relay' | 'cloud';

interface Options {
  readonly clients: number;
  readonly chats: number;
  readonly messages: number;
  readonly intervalMs: number;
  readonly jitterMs: number;
  readonly lightIntervalMs: number;
  readonly lightJitterMs: number;
  readonly thinkMs: number;
  readonly modes: readonly Mode[];
  readonly targets: readonly TargetName[];
  readonly warmup: number;
  readonly textBytes: number;
  readonly phaseTimeoutMs: number;
  readonly drainMs: number;
  readonly maxRunMs: number;
  readonly seed: number;
  readonly out: string;
}

interface OptionSpec {
  readonly env: string;
  readonly fallback: string;
  readonly help: string;
}

const OPTIONS = {
  clients: { env: 'BENCH_CLIENTS', fallback: '20', help: 'N: WebSocket clients' },
  chats: { env: 'BENCH_CHATS', fallback: '5', help: 'M: chats (client i joins chat i mod M)' },
  messages: { env: 'BENCH_MESSAGES', fallback: '20', help: 'K: measured messages per client' },
  interval: {
    env: 'BENCH_INTERVAL_MS',
    fallback: '150',
    help: 'open loop: mean ms between sends of a client',
  },
  jitter: { env: 'BENCH_JITTER_MS', fallback: '50', help: 'open loop: ± uniform jitter on the interval' },
  'light-interval': {
    env: 'BENCH_LIGHT_INTERVAL_MS',
    fallback: '1000',
    help: 'light open loop: mean ms between sends of a client',
  },
  'light-jitter': { env: 'BENCH_LIGHT_JITTER_MS', fallback: '300', help: 'light open loop: ± jitter' },
  think: { env: 'BENCH_THINK_MS', fallback: '0', help: 'closed loop: pause after each ack' },
  modes: {
    env: 'BENCH_MODES',
    fallback: 'open,light,closed',
    help: 'load shapes to run, any of open, light, closed',
  },
  targets: { env: 'BENCH_TARGETS', fallback: 'relay,cloud', help: 'systems to run: relay, cloud or both' },
  warmup: { env: 'BENCH_WARMUP', fallback: '1', help: 'unmeasured messages per client before each run' },
  'text-bytes': { env: 'BENCH_TEXT_BYTES', fallback: '64', help: 'length of each message text' },
  'phase-timeout': { env: 'BENCH_PHASE_TIMEOUT_MS', fallback: '60000', help: 'stop sending after this long' },
  drain: { env: 'BENCH_DRAIN_MS', fallback: '10000', help: 'wait at most this long for late deliveries' },
  'max-run': {
    env: 'BENCH_MAX_RUN_MS',
    fallback: '300000',
    help: 'watchdog: abort the whole run after this',
  },
  seed: { env: 'BENCH_SEED', fallback: '1', help: 'seed of the jitter' },
  out: { env: 'BENCH_OUT', fallback: 'bench-results/latest.json', help: 'JSON results file' },
} as const satisfies Record<string, OptionSpec>;
type OptionName = keyof typeof OPTIONS;

const usage = (): string =>
  [
    'npm run bench -- [--name value]…   (or the environment variables)',
    ...Object.entries(OPTIONS).map(
      ([name, spec]) =>
        `  --${name.padEnd(14)} ${spec.env.padEnd(24)} ${spec.fallback.padEnd(26)} ${spec.help}`,
    ),
  ].join('\n');

class OptionError extends Error {}

const parseOptions = (): Options => {
  const values: Record<string, string | boolean | undefined> = parseArgs({
    options: {
      ...Object.fromEntries(Object.keys(OPTIONS).map((name) => [name, { type: 'string' as const }])),
      help: { type: 'boolean' },
    },
    strict: true,
  }).values;
  if (values.help) {
    console.log(usage());
    process.exit(0);
  }
  const raw = (name: OptionName): string => {
    const fromArg = values[name];
    return typeof fromArg === 'string' ? fromArg : (process.env[OPTIONS[name].env] ?? OPTIONS[name].fallback);
  };
  const int = (name: OptionName, min: number, max: number): number => {
    const value = Number(raw(name));
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new OptionError(
        `--${name} (${OPTIONS[name].env}) must be an integer in [${min}, ${max}], got ${raw(name)}`,
      );
    }
    return value;
  };
  const list = <T extends string>(name: OptionName, allowed: readonly T[]): T[] => {
    const items = raw(name)
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    const bad = items.filter((item) => !(allowed as readonly string[]).includes(item));
    if (items.length === 0 || bad.length > 0) {
      throw new OptionError(
        `--${name} must be a comma-separated subset of ${allowed.join(', ')}, got ${raw(name)}`,
      );
    }
    return [...new Set(items)] as T[];
  };
  const clients = int('clients', 1, 2000);
  const chats = int('chats', 1, clients);
  const intervalMs = int('interval', 1, 60_000);
  const lightIntervalMs = int('light-interval', 1, 60_000);
  return {
    clients,
    chats,
    messages: int('messages', 1, 100_000),
    intervalMs,
    jitterMs: int('jitter', 0, Math.max(intervalMs - 1, 0)),
    lightIntervalMs,
    lightJitterMs: int('light-jitter', 0, Math.max(lightIntervalMs - 1, 0)),
    thinkMs: int('think', 0, 60_000),
    modes: list<Mode>('modes', ['open', 'light', 'closed']),
    targets: list<TargetName>('targets', ['relay', 'cloud']),
    warmup: int('warmup', 0, 100),
    textBytes: int('text-bytes', 1, 8000),
    phaseTimeoutMs: int('phase-timeout', 1000, 3_600_000),
    drainMs: int('drain', 100, 600_000),
    maxRunMs: int('max-run', 10_000, 3_600_000),
    seed: int('seed', 0, 2 ** 31 - 1),
    out: raw('out'),
  };
};

/** The send schedule of an open-loop mode; undefined for the closed loop. */
const pace = (mode: Mode, options: Options): { intervalMs: number; jitterMs: number } | undefined => {
  if (mode === 'open') return { intervalMs: options.intervalMs, jitterMs: options.jitterMs };
  if (mode === 'light') return { intervalMs: options.lightIntervalMs, jitterMs: options.lightJitterMs };
  return undefined;
};

// ---- small helpers -------------------------------------------------------------------------------------

const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, Math.max(0, ms)));
const now = () => performance.now();
const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** mulberry32: a small seeded PRNG, so the jitter of two runs is the same. */
const prng = (seed: number) => {
  let state = seed >>> 0;
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const mapLimit = async <T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
) => {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
};

const withTimeout = <T>(promise: Promise<T>, ms: number, what: string): Promise<T> =>
  new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolvePromise(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });

const randomChatId = (): string => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = 'ch_';
  for (let i = 0; i < 20; i++) id += alphabet[Math.floor(Math.random() * alphabet.length)];
  return id;
};

// ---- statistics ----------------------------------------------------------------------------------------

interface Stats {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/** Nearest-rank percentiles. */
const stats = (values: readonly number[]): Stats => {
  if (values.length === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
  return {
    count: sorted.length,
    min: round(sorted[0] ?? 0),
    mean: round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length),
    p50: round(rank(50)),
    p95: round(rank(95)),
    p99: round(rank(99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
};

// ---- CPU time ------------------------------------------------------------------------------------------

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU ms of another process (all its threads), from /proc; undefined where there is none. */
const processCpuMs = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
};

const ownCpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** The pid of the DynamoDB Local started on `port` (the java process, not a wrapper). */
const dynamoPidOn = (port: string): number | undefined => {
  try {
    const lines = execFileSync('pgrep', ['-af', 'DynamoDBLocal'], { encoding: 'utf8' }).split('\n');
    const line = lines.find((candidate) => new RegExp(`-port\\s+${port}(\\s|$)`).test(candidate));
    return line ? Number(line.split(' ')[0]) : undefined;
  } catch {
    return undefined;
  }
};

// ---- the socket protocol (public contract) -------------------------------------------------------------

interface Envelope {
  readonly type: string;
  readonly requestId?: string;
  readonly chatId?: string;
  readonly seq?: number;
  readonly data: Record<string, unknown>;
}

const asEnvelope = (data: RawData): Envelope | undefined => {
  let value: unknown;
  try {
    value = JSON.parse(
      Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8'),
    );
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.type !== 'string') return undefined;
  return {
    type: value.type,
    ...(typeof value.requestId === 'string' ? { requestId: value.requestId } : {}),
    ...(typeof value.chatId === 'string' ? { chatId: value.chatId } : {}),
    ...(typeof value.seq === 'number' ? { seq: value.seq } : {}),
    data: isRecord(value.data) ? value.data : {},
  };
};

class RequestFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

class BenchClient {
  private readonly pending = new Map<string, { settle: (envelope: Envelope) => void }>();
  private requests = 0;
  private readonly closed: Promise<void>;

  private constructor(
    readonly index: number,
    readonly chatId: string,
    private readonly socket: WebSocket,
    recorder: Recorder,
  ) {
    this.closed = new Promise((done) => socket.once('close', () => done()));
    socket.on('message', (data) => {
      const at = now();
      const envelope = asEnvelope(data);
      if (!envelope) {
        recorder.other('unparseable');
        return;
      }
      if (envelope.type === 'message.created') {
        recorder.delivery(this, envelope, at);
        return;
      }
      const waiter = envelope.requestId ? this.pending.get(envelope.requestId) : undefined;
      if (waiter && envelope.requestId && (envelope.type === 'ack' || envelope.type === 'error')) {
        this.pending.delete(envelope.requestId);
        waiter.settle(envelope);
        return;
      }
      recorder.other(envelope.type === 'error' ? `error:${String(envelope.data.code)}` : envelope.type);
    });
    socket.on('error', (error) => recorder.other(`socket-error:${error.message}`));
  }

  static open(url: string, index: number, chatId: string, recorder: Recorder): Promise<BenchClient> {
    const socket = new WebSocket(url);
    const client = new BenchClient(index, chatId, socket, recorder);
    return withTimeout(
      new Promise<BenchClient>((done, reject) => {
        socket.once('open', () => done(client));
        socket.once('unexpected-response', (_request, response) =>
          reject(new Error(`upgrade refused with ${response.statusCode}`)),
        );
        socket.once('error', reject);
      }),
      15_000,
      `client ${index} connect`,
    ).catch((error: unknown) => {
      socket.terminate();
      throw error;
    });
  }

  /** Sends a frame with a fresh requestId; resolves with the ack, rejects with the error envelope. */
  request(frame: Record<string, unknown>, timeoutMs: number, onSent?: () => void): Promise<Envelope> {
    const requestId = `r${this.index}-${++this.requests}`;
    return withTimeout(
      new Promise<Envelope>((done, reject) => {
        this.pending.set(requestId, {
          settle: (envelope) =>
            envelope.type === 'ack'
              ? done(envelope)
              : reject(
                  new RequestFailed(
                    String(envelope.data.code ?? 'error'),
                    String(envelope.data.message ?? ''),
                  ),
                ),
        });
        onSent?.();
        this.socket.send(JSON.stringify({ ...frame, requestId }));
      }),
      timeoutMs,
      `${String(frame.action)} ${requestId}`,
    ).finally(() => this.pending.delete(requestId));
  }

  async close(): Promise<void> {
    if (!this.isOpen()) return;
    this.socket.close(1000, 'bench done');
    await Promise.race([this.closed, sleep(3_000)]);
    if (this.isOpen()) this.socket.terminate();
  }

  private isOpen(): boolean {
    return this.socket.readyState !== WebSocket.CLOSED;
  }
}

// ---- what one run records ------------------------------------------------------------------------------

interface SentMessage {
  readonly clientMessageId: string;
  readonly chatId: string;
  readonly sender: number;
  readonly measured: boolean;
  readonly expected: number;
  readonly receivers: Set<number>;
  sentAt: number;
  ackAt?: number;
  seq?: number;
  failure?: string;
}

class Recorder {
  measuring = false;
  readonly sent = new Map<string, SentMessage>();
  readonly latencies: number[] = [];
  readonly ackLatencies: number[] = [];
  readonly others = new Map<string, number>();
  /** Deliveries still expected (of messages not failed). */
  outstanding = 0;
  received = 0;
  duplicates = 0;
  unknown = 0;
  outOfOrder = 0;
  firstSendAt = Number.POSITIVE_INFINITY;
  lastSendAt = 0;
  lastAckAt = 0;
  lastDeliveryAt = 0;
  private readonly lastSeqSeen = new Map<string, number>();
  /** Per chat: seq → clientMessageId, from acks and deliveries. */
  readonly seqs = new Map<string, Map<number, string>>();
  /** Per chat: seq → the message's createdAt, from deliveries. */
  readonly createdAt = new Map<string, Map<number, string>>();
  seqConflicts = 0;

  constructor(private readonly membersOf: (chatId: string) => number) {}

  other(type: string): void {
    this.others.set(type, (this.others.get(type) ?? 0) + 1);
  }

  send(client: BenchClient, clientMessageId: string): SentMessage {
    const message: SentMessage = {
      clientMessageId,
      chatId: client.chatId,
      sender: client.index,
      measured: this.measuring,
      expected: this.membersOf(client.chatId),
      receivers: new Set(),
      sentAt: now(),
    };
    this.sent.set(clientMessageId, message);
    this.outstanding += message.expected;
    return message;
  }

  sentNow(message: SentMessage): void {
    message.sentAt = now();
    if (!message.measured) return;
    this.firstSendAt = Math.min(this.firstSendAt, message.sentAt);
    this.lastSendAt = Math.max(this.lastSendAt, message.sentAt);
  }

  ack(message: SentMessage, envelope: Envelope): void {
    message.ackAt = now();
    const stored = isRecord(envelope.data.message) ? envelope.data.message : undefined;
    const seq = typeof stored?.seq === 'number' ? stored.seq : envelope.seq;
    if (typeof seq === 'number') {
      message.seq = seq;
      this.noteSeq(message.chatId, seq, message.clientMessageId);
    }
    if (!message.measured) return;
    this.ackLatencies.push(message.ackAt - message.sentAt);
    this.lastAckAt = Math.max(this.lastAckAt, message.ackAt);
  }

  fail(message: SentMessage, reason: string): void {
    message.failure = reason;
    this.outstanding -= message.expected - message.receivers.size;
    this.other(`send-failed:${reason}`);
  }

  delivery(client: BenchClient, envelope: Envelope, at: number): void {
    const clientMessageId = envelope.data.clientMessageId;
    const message = typeof clientMessageId === 'string' ? this.sent.get(clientMessageId) : undefined;
    if (!message || envelope.chatId !== message.chatId) {
      this.unknown++;
      return;
    }
    if (typeof envelope.seq === 'number') {
      this.noteSeq(message.chatId, envelope.seq, message.clientMessageId);
      if (typeof envelope.data.createdAt === 'string') {
        const times = this.createdAt.get(message.chatId) ?? new Map<number, string>();
        times.set(envelope.seq, envelope.data.createdAt);
        this.createdAt.set(message.chatId, times);
      }
      const orderKey = `${client.index}/${message.chatId}`;
      const last = this.lastSeqSeen.get(orderKey) ?? 0;
      if (envelope.seq < last) this.outOfOrder++;
      else this.lastSeqSeen.set(orderKey, envelope.seq);
    }
    if (message.receivers.has(client.index)) {
      this.duplicates++;
      return;
    }
    message.receivers.add(client.index);
    this.received++;
    if (!message.failure) this.outstanding--;
    if (!message.measured) return;
    this.latencies.push(at - message.sentAt);
    this.lastDeliveryAt = Math.max(this.lastDeliveryAt, at);
  }

  private noteSeq(chatId: string, seq: number, clientMessageId: string): void {
    let bySeq = this.seqs.get(chatId);
    if (!bySeq) {
      bySeq = new Map();
      this.seqs.set(chatId, bySeq);
    }
    const known = bySeq.get(seq);
    if (known === undefined) bySeq.set(seq, clientMessageId);
    else if (known !== clientMessageId) this.seqConflicts++;
  }

  /** Pairs of consecutive seqs in a chat whose createdAt goes backwards. */
  createdAtInversions(): number {
    let inversions = 0;
    for (const times of this.createdAt.values()) {
      const ordered = [...times].sort(([a], [b]) => a - b);
      for (let index = 1; index < ordered.length; index++) {
        const [previousSeq, previous] = ordered[index - 1] ?? [0, ''];
        const [seq, current] = ordered[index] ?? [0, ''];
        if (seq === previousSeq + 1 && current < previous) inversions++;
      }
    }
    return inversions;
  }

  async drained(deadline: number): Promise<boolean> {
    while (this.outstanding > 0 && now() < deadline) await sleep(5);
    return this.outstanding === 0;
  }
}

// ---- targets -------------------------------------------------------------------------------------------

interface Prepared {
  readonly chatIds: readonly string[];
  /** The URL a client opens (for the cloud: with a fresh single-use ticket). */
  url(client: number): Promise<string>;
}

interface Target {
  readonly name: TargetName;
  prepare(tag: string, members: readonly (readonly number[])[]): Promise<Prepared>;
  /** Resolves once work already started has finished (the cloud's stream consumers). */
  settle(): Promise<void>;
  stop(): Promise<void>;
  /** The DynamoDB Local java process, whose CPU time is measured too. */
  readonly dynamoPid?: number;
  /** The sizes of the items one message append writes, read back from the table. */
  estimateAppend?(chatId: string): Promise<AppendEstimate | undefined>;
}

interface AppendEstimate {
  readonly itemBytes: { readonly chat: number; readonly message: number; readonly idempotency: number };
  /** AWS's rule: a transactional write costs 2 WCU per started KB of each item (GSI writes not included). */
  readonly awsTableWcu: number;
}

const estimateAppend = async (
  endpoint: string,
  tableName: string,
  chatId: string,
): Promise<AppendEstimate> => {
  const client = new DynamoDBClient({ endpoint });
  try {
    const chatKey = keys.chat(chatId);
    const key = { pk: { S: chatKey.pk }, sk: { S: chatKey.sk } };
    const chat = (await client.send(new GetItemCommand({ TableName: tableName, Key: key }))).Item;
    const first = async (prefix: string) =>
      (
        await client.send(
          new QueryCommand({
            TableName: tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': key.pk, ':prefix': { S: prefix } },
            Limit: 1,
          }),
        )
      ).Items?.[0];
    const message = await first(keys.MSG_PREFIX);
    const idempotency = await first('CMID#'); // keys.idempotency(): CMID#<sender>#<clientMessageId>
    if (!chat || !message || !idempotency) throw new Error(`chat ${chatId} has no message to measure`);
    const bytes = { chat: itemBytes(chat), message: itemBytes(message), idempotency: itemBytes(idempotency) };
    const kb = (value: number) => Math.ceil(value / 1024);
    return {
      itemBytes: bytes,
      awsTableWcu: 2 * (kb(bytes.chat) + kb(bytes.message) + kb(bytes.idempotency)),
    };
  } finally {
    client.destroy();
  }
};

const relayTarget = async (): Promise<Target> => {
  const relay: Relay = await startRelay(0);
  return {
    name: 'relay',
    prepare: async (_tag, members) => ({
      chatIds: members.map(() => randomChatId()),
      url: async () => relay.url,
    }),
    settle: async () => {},
    stop: () => relay.close(),
  };
};

const postJson = async (url: string, body: unknown, token?: string): Promise<Record<string, unknown>> => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const payload: unknown = await response.json().catch(() => undefined);
  if (!response.ok || !isRecord(payload)) {
    throw new Error(`POST ${new URL(url).pathname} → ${response.status} ${JSON.stringify(payload)}`);
  }
  return payload;
};

const stringField = (record: Record<string, unknown>, name: string): string => {
  const value = record[name];
  if (typeof value !== 'string') throw new Error(`expected a string ${name} in ${JSON.stringify(record)}`);
  return value;
};

const cloudTarget = (cloud: LocalCloud): Target => {
  const http = cloud.urls.http;
  const dynamoPid = dynamoPidOn(new URL(cloud.urls.dynamodb).port);
  return {
    name: 'cloud',
    prepare: async (tag, members) => {
      const userIds = new Map<number, string>();
      for (const chat of members) for (const client of chat) userIds.set(client, `bench-${tag}-u${client}`);
      const tokens = new Map<number, string>();
      await mapLimit([...userIds], 8, async ([client, userId]) => {
        const body = await postJson(`${http}/v1/dev/tokens`, { tenantId: DEMO_TENANT, userId, role: 'user' });
        tokens.set(client, stringField(body, 'token'));
      });
      const chatIds = await mapLimit(members, 4, async (chat) => {
        const [creator, ...others] = chat;
        const token = tokens.get(creator ?? -1);
        if (!token) throw new Error('a chat without members');
        const body = await postJson(
          `${http}/v1/chats`,
          { subject: `bench ${tag}`, participants: others.map((client) => userIds.get(client)) },
          token,
        );
        return stringField(body, 'chatId');
      });
      return {
        chatIds,
        url: async (client) => {
          const body = await postJson(`${http}/v1/realtime/tickets`, {}, tokens.get(client));
          return `${stringField(body, 'url')}?ticket=${encodeURIComponent(stringField(body, 'ticket'))}`;
        },
      };
    },
    settle: () => withTimeout(cloud.idle(), 30_000, 'cloud idle'),
    stop: () => cloud.stop(),
    estimateAppend: (chatId) => estimateAppend(cloud.urls.dynamodb, cloud.tableName, chatId),
    ...(dynamoPid !== undefined ? { dynamoPid } : {}),
  };
};

// ---- one run: one load shape against one system --------------------------------------------------------

interface CapacityLine {
  readonly operation: string;
  readonly target: string;
  readonly calls: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly unreported: number;
  readonly perMessage: {
    readonly calls: number;
    readonly rcu: number;
    readonly wcu: number;
    /** Of rcu/wcu, the part spent on global secondary indexes. */
    readonly gsiRcu: number;
    readonly gsiWcu: number;
  };
  /** Duration of the calls (successful and failed) as the handlers saw them. */
  readonly callMs: Stats;
  /** The ConsumedCapacity of one successful call, as DynamoDB returned it. */
  readonly sample?: unknown;
}

interface CapacityTotals {
  readonly rcu: number;
  readonly wcu: number;
  readonly gsiRcu: number;
  readonly gsiWcu: number;
  readonly calls: number;
}

interface CapacityReport {
  readonly messages: number;
  readonly perMessage: CapacityTotals;
  readonly total: CapacityTotals;
  readonly rows: readonly CapacityLine[];
}

interface RunResult {
  readonly target: TargetName;
  readonly mode: Mode;
  readonly setupMs: number;
  readonly messages: { readonly measured: number; readonly acked: number; readonly failed: number };
  readonly deliveries: {
    /** Of the measured messages (the warm-up's are in expected/received, lost and duplicates). */
    readonly measuredExpected: number;
    readonly measuredReceived: number;
    readonly expected: number;
    readonly received: number;
    readonly lost: number;
    readonly duplicates: number;
    readonly unknown: number;
    readonly outOfOrder: number;
  };
  readonly seq: {
    readonly gaps: number;
    readonly conflicts: number;
    /** Consecutive seqs whose createdAt goes backwards (seq order and createdAt order disagree). */
    readonly createdAtInversions: number;
    readonly perChat: readonly { readonly chatId: string; readonly maxSeq: number; readonly gaps: number }[];
  };
  readonly latencyMs: Stats;
  readonly ackLatencyMs: Stats;
  readonly throughput: {
    readonly windowMs: number;
    readonly sendSpanMs: number;
    readonly messagesPerSecond: number;
    readonly deliveriesPerSecond: number;
    readonly offeredMessagesPerSecond?: number;
  };
  readonly otherEnvelopes: Record<string, number>;
  /** CPU time spent during the measured window (send of the first message → everything settled). */
  readonly cpu: {
    readonly wallMs: number;
    readonly nodeMs: number;
    readonly dynamoDbLocalMs?: number;
    readonly perMessageMs: number;
    readonly loadAverage1m: { readonly before: number; readonly after: number };
  };
  readonly capacity?: CapacityReport;
  readonly setupCapacity?: CapacityReport;
}

const capacityReport = (rows: readonly CapacityRow[], messages: number): CapacityReport => {
  const per = (value: number) => round(value / Math.max(1, messages), 3);
  const total = rows.reduce(
    (sum, row) => ({
      rcu: sum.rcu + row.readCapacityUnits,
      wcu: sum.wcu + row.writeCapacityUnits,
      gsiRcu: sum.gsiRcu + row.indexReadCapacityUnits,
      gsiWcu: sum.gsiWcu + row.indexWriteCapacityUnits,
      calls: sum.calls + row.calls,
    }),
    { rcu: 0, wcu: 0, gsiRcu: 0, gsiWcu: 0, calls: 0 },
  );
  return {
    messages,
    perMessage: {
      rcu: per(total.rcu),
      wcu: per(total.wcu),
      gsiRcu: per(total.gsiRcu),
      gsiWcu: per(total.gsiWcu),
      calls: per(total.calls),
    },
    total: {
      rcu: round(total.rcu),
      wcu: round(total.wcu),
      gsiRcu: round(total.gsiRcu),
      gsiWcu: round(total.gsiWcu),
      calls: total.calls,
    },
    rows: rows.map((row) => ({
      operation: row.operation,
      target: row.target,
      calls: row.calls,
      failed: row.failed,
      failures: row.failures,
      unreported: row.unreported,
      perMessage: {
        calls: per(row.calls),
        rcu: per(row.readCapacityUnits),
        wcu: per(row.writeCapacityUnits),
        gsiRcu: per(row.indexReadCapacityUnits),
        gsiWcu: per(row.indexWriteCapacityUnits),
      },
      callMs: stats(row.durationsMs),
      ...(row.sample !== undefined ? { sample: row.sample } : {}),
    })),
  };
};

const runOnce = async (target: Target, mode: Mode, options: Options, runTag: string): Promise<RunResult> => {
  const tag = `${runTag}-${mode[0]}`;
  const members: number[][] = Array.from({ length: options.chats }, () => []);
  for (let client = 0; client < options.clients; client++) members[client % options.chats]?.push(client);
  const random = prng(options.seed + ['open', 'light', 'closed'].indexOf(mode) * 7919);
  const paced = pace(mode, options);
  const text = (client: number, k: number) => `bench ${client}/${k} `.padEnd(options.textBytes, 'x');
  const requestTimeoutMs = Math.min(30_000, options.phaseTimeoutMs);

  const setupStarted = now();
  const setupMark = meter.mark();
  const prepared = await target.prepare(tag, members);
  const sizeOf = new Map(prepared.chatIds.map((chatId, chat) => [chatId, members[chat]?.length ?? 0]));
  const recorder = new Recorder((chatId) => sizeOf.get(chatId) ?? 0);
  const clients: BenchClient[] = [];
  try {
    await mapLimit(members.flat(), 8, async (client) => {
      const chatId = prepared.chatIds[client % options.chats] ?? '';
      const socket = await BenchClient.open(await prepared.url(client), client, chatId, recorder);
      clients.push(socket);
      await socket.request({ action: 'subscribe', chatId }, requestTimeoutMs);
    });
    clients.sort((a, b) => a.index - b.index);
    await target.settle();

    const sendOne = async (client: BenchClient, clientMessageId: string, k: number): Promise<void> => {
      const message = recorder.send(client, clientMessageId);
      try {
        const envelope = await client.request(
          { action: 'sendMessage', chatId: client.chatId, clientMessageId, text: text(client.index, k) },
          requestTimeoutMs,
          () => recorder.sentNow(message),
        );
        recorder.ack(message, envelope);
      } catch (error) {
        const reason =
          error instanceof RequestFailed
            ? error.code
            : error instanceof Error && error.message.includes('timed out')
              ? 'timeout'
              : 'socket';
        recorder.fail(message, reason);
      }
    };

    // Warm-up: unmeasured, closed loop; then wait for its deliveries and for the system to settle.
    for (let k = 0; k < options.warmup; k++) {
      await Promise.all(clients.map((client) => sendOne(client, `w${tag}-c${client.index}-m${k}`, k)));
    }
    await recorder.drained(now() + options.drainMs);
    await target.settle();
    const setupMs = now() - setupStarted;
    const setupCapacity = target.name === 'cloud' ? meter.since(setupMark) : undefined;

    // Measured load.
    const loadMark = meter.mark();
    const cpuBefore = { node: ownCpuMs(), dynamo: processCpuMs(target.dynamoPid), load: loadavg()[0] ?? 0 };
    recorder.measuring = true;
    const started = now();
    const deadline = started + options.phaseTimeoutMs;
    const inFlight: Promise<void>[] = [];
    await Promise.all(
      clients.map(async (client) => {
        let next = started + random() * (paced?.intervalMs ?? 0);
        for (let k = 0; k < options.messages && now() < deadline; k++) {
          const clientMessageId = `${tag}-c${client.index}-m${k}`;
          if (paced) {
            await sleep(next - now());
            inFlight.push(sendOne(client, clientMessageId, k));
            next += paced.intervalMs + (random() * 2 - 1) * paced.jitterMs;
          } else {
            await sendOne(client, clientMessageId, k);
            if (options.thinkMs > 0) await sleep(options.thinkMs);
          }
        }
      }),
    );
    await Promise.all(inFlight);
    await recorder.drained(Math.max(now(), recorder.lastAckAt) + options.drainMs);
    await target.settle();
    const capacityRows = target.name === 'cloud' ? meter.since(loadMark) : undefined;
    const wallMs = now() - started;
    const nodeMs = ownCpuMs() - cpuBefore.node;
    const dynamoAfter = processCpuMs(target.dynamoPid);
    const dynamoMs =
      dynamoAfter !== undefined && cpuBefore.dynamo !== undefined
        ? dynamoAfter - cpuBefore.dynamo
        : undefined;
    const loadAfter = loadavg()[0] ?? 0;

    // Results.
    const measured = [...recorder.sent.values()].filter((message) => message.measured);
    const acked = measured.filter((message) => message.ackAt !== undefined && !message.failure);
    const expected = [...recorder.sent.values()]
      .filter((message) => !message.failure)
      .reduce((sum, message) => sum + message.expected, 0);
    const lost = [...recorder.sent.values()]
      .filter((message) => !message.failure)
      .reduce((sum, message) => sum + (message.expected - message.receivers.size), 0);
    const perChat = prepared.chatIds.map((chatId) => {
      const seqs = recorder.seqs.get(chatId) ?? new Map<number, string>();
      const maxSeq = Math.max(0, ...seqs.keys());
      return { chatId, maxSeq, gaps: maxSeq - seqs.size };
    });
    const measuredDeliveries = recorder.latencies.length;
    const windowMs = Math.max(recorder.lastDeliveryAt, recorder.lastAckAt) - recorder.firstSendAt;
    const perSecond = (count: number) => (windowMs > 0 ? round((count / windowMs) * 1000, 1) : 0);
    return {
      target: target.name,
      mode,
      setupMs: round(setupMs, 0),
      messages: { measured: measured.length, acked: acked.length, failed: measured.length - acked.length },
      deliveries: {
        measuredExpected: measured
          .filter((message) => !message.failure)
          .reduce((sum, m) => sum + m.expected, 0),
        measuredReceived: recorder.latencies.length,
        expected,
        received: recorder.received,
        lost,
        duplicates: recorder.duplicates,
        unknown: recorder.unknown,
        outOfOrder: recorder.outOfOrder,
      },
      seq: {
        gaps: perChat.reduce((sum, chat) => sum + chat.gaps, 0),
        conflicts: recorder.seqConflicts,
        createdAtInversions: recorder.createdAtInversions(),
        perChat,
      },
      latencyMs: stats(recorder.latencies),
      ackLatencyMs: stats(recorder.ackLatencies),
      throughput: {
        windowMs: round(windowMs, 1),
        sendSpanMs: round(recorder.lastSendAt - recorder.firstSendAt, 1),
        messagesPerSecond: perSecond(acked.length),
        deliveriesPerSecond: perSecond(measuredDeliveries),
        ...(paced ? { offeredMessagesPerSecond: round((options.clients * 1000) / paced.intervalMs, 1) } : {}),
      },
      otherEnvelopes: Object.fromEntries(recorder.others),
      cpu: {
        wallMs: round(wallMs, 0),
        nodeMs: round(nodeMs, 0),
        ...(dynamoMs !== undefined ? { dynamoDbLocalMs: round(dynamoMs, 0) } : {}),
        perMessageMs: round((nodeMs + (dynamoMs ?? 0)) / Math.max(1, acked.length), 2),
        loadAverage1m: { before: round(cpuBefore.load, 2), after: round(loadAfter, 2) },
      },
      ...(capacityRows ? { capacity: capacityReport(capacityRows, acked.length) } : {}),
      ...(setupCapacity ? { setupCapacity: capacityReport(setupCapacity, options.clients) } : {}),
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await target.settle().catch(() => {});
  }
};

// ---- output --------------------------------------------------------------------------------------------

const num = (value: number): string => {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs < 10) return value.toFixed(2);
  if (abs < 100) return value.toFixed(1);
  return value.toFixed(0);
};

const table = (header: readonly string[], rows: readonly (readonly string[])[], leftColumns = 1): string => {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column < leftColumns ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
};

interface Ratios {
  readonly latencyP50: number;
  readonly latencyP95: number;
  readonly latencyP99: number;
  readonly latencyMax: number;
  readonly ackP50: number;
  readonly ackP95: number;
  readonly messagesPerSecond: number;
  readonly deliveriesPerSecond: number;
}

const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toPrecision(3)) : Number.NaN);
const ratiosOf = (cloud: RunResult, relay: RunResult): Ratios => ({
  latencyP50: ratio(cloud.latencyMs.p50, relay.latencyMs.p50),
  latencyP95: ratio(cloud.latencyMs.p95, relay.latencyMs.p95),
  latencyP99: ratio(cloud.latencyMs.p99, relay.latencyMs.p99),
  latencyMax: ratio(cloud.latencyMs.max, relay.latencyMs.max),
  ackP50: ratio(cloud.ackLatencyMs.p50, relay.ackLatencyMs.p50),
  ackP95: ratio(cloud.ackLatencyMs.p95, relay.ackLatencyMs.p95),
  messagesPerSecond: ratio(cloud.throughput.messagesPerSecond, relay.throughput.messagesPerSecond),
  deliveriesPerSecond: ratio(cloud.throughput.deliveriesPerSecond, relay.throughput.deliveriesPerSecond),
});

const modeTitle = (mode: Mode, options: Options): string => {
  const paced = pace(mode, options);
  return paced
    ? `${mode === 'light' ? 'light ' : ''}open loop: each client sends every ${paced.intervalMs}±${paced.jitterMs} ms ` +
        `(offered ${num((options.clients * 1000) / paced.intervalMs)} msg/s)`
    : `closed loop: each client sends its next message as soon as the previous is acked${
        options.thinkMs > 0 ? ` + ${options.thinkMs} ms` : ''
      }`;
};

const printMode = (mode: Mode, options: Options, results: readonly RunResult[]): void => {
  const relay = results.find((result) => result.target === 'relay');
  const cloud = results.find((result) => result.target === 'cloud');
  const columns = [relay, cloud].filter((result): result is RunResult => result !== undefined);
  const ratios = relay && cloud ? ratiosOf(cloud, relay) : undefined;
  const rx = (value: number | undefined) =>
    value === undefined || Number.isNaN(value) ? '' : `${num(value)}×`;
  const row = (label: string, pick: (result: RunResult) => string, ratioValue?: number): string[] => [
    label,
    ...columns.map(pick),
    ...(ratios ? [rx(ratioValue)] : []),
  ];
  const header = ['', ...columns.map((result) => result.target), ...(ratios ? ['cloud/relay'] : [])];
  const rows = [
    row('messages sent (acked)', (r) => `${r.messages.measured} (${r.messages.acked})`),
    row(
      'deliveries (expected)',
      (r) => `${r.deliveries.measuredReceived} (${r.deliveries.measuredExpected})`,
    ),
    row('latency p50 ms', (r) => num(r.latencyMs.p50), ratios?.latencyP50),
    row('latency p95 ms', (r) => num(r.latencyMs.p95), ratios?.latencyP95),
    row('latency p99 ms', (r) => num(r.latencyMs.p99), ratios?.latencyP99),
    row('latency max ms', (r) => num(r.latencyMs.max), ratios?.latencyMax),
    row('ack p50 ms', (r) => num(r.ackLatencyMs.p50), ratios?.ackP50),
    row('ack p95 ms', (r) => num(r.ackLatencyMs.p95), ratios?.ackP95),
    row('messages/s', (r) => num(r.throughput.messagesPerSecond), ratios?.messagesPerSecond),
    row('deliveries/s', (r) => num(r.throughput.deliveriesPerSecond), ratios?.deliveriesPerSecond),
    row('window ms (first send → last delivery)', (r) => num(r.throughput.windowMs)),
    row('lost deliveries (incl. warm-up)', (r) => String(r.deliveries.lost)),
    row('duplicate deliveries', (r) => String(r.deliveries.duplicates)),
    row('unmatched deliveries', (r) => String(r.deliveries.unknown)),
    row('out-of-order deliveries', (r) => String(r.deliveries.outOfOrder)),
    row('seq gaps (all chats)', (r) => String(r.seq.gaps)),
    row('seq conflicts', (r) => String(r.seq.conflicts)),
    row('createdAt going backwards as seq rises', (r) => String(r.seq.createdAtInversions)),
    row('failed sends', (r) => String(r.messages.failed)),
    row('CPU ms per message (node + DynamoDB Local)', (r) => num(r.cpu.perMessageMs)),
    row(
      '  node CPU s / DynamoDB Local CPU s',
      (r) =>
        `${num(r.cpu.nodeMs / 1000)} / ${r.cpu.dynamoDbLocalMs === undefined ? '–' : num(r.cpu.dynamoDbLocalMs / 1000)}`,
    ),
    row('  wall s (send → settled)', (r) => num(r.cpu.wallMs / 1000)),
    row(
      'load average 1 min (before → after)',
      (r) => `${num(r.cpu.loadAverage1m.before)} → ${num(r.cpu.loadAverage1m.after)}`,
    ),
    row('setup + warm-up ms', (r) => num(r.setupMs)),
  ];
  console.log(`\n== ${modeTitle(mode, options)}\n`);
  console.log(table(header, rows));
  for (const result of columns) {
    const gaps = result.seq.perChat.filter((chat) => chat.gaps > 0);
    if (gaps.length > 0) {
      console.log(
        `${result.target}: seq gaps: ${gaps.map((chat) => `${chat.chatId} ${chat.gaps}`).join(', ')}`,
      );
    }
    const offered = result.throughput.offeredMessagesPerSecond;
    if (offered !== undefined && result.throughput.messagesPerSecond < 0.9 * offered) {
      console.log(
        `${result.target}: SATURATED: it sustained ${num(result.throughput.messagesPerSecond)} of the ` +
          `${num(offered)} msg/s offered, so its latencies above are mostly time spent queueing` +
          (mode === 'light'
            ? ' (raise --light-interval)'
            : ' (the light mode shows latency at a rate it sustains)'),
      );
    }
    const others = Object.entries(result.otherEnvelopes);
    if (others.length > 0) {
      console.log(
        `${result.target}: other frames: ${others.map(([type, count]) => `${type} ×${count}`).join(', ')}`,
      );
    }
  }
  const capacity = cloud?.capacity;
  if (capacity) {
    console.log(
      `\nDynamoDB capacity per message (cloud, ${capacity.messages} messages; every call made with ` +
        `ReturnConsumedCapacity; failed calls report none):\n`,
    );
    const gsi = (rcu: number, wcu: number) => (rcu + wcu > 0 ? `${num(rcu + wcu)}` : '');
    const lines = capacity.rows.map((line) => [
      line.operation,
      line.target,
      num(line.perMessage.calls),
      num(line.perMessage.rcu),
      num(line.perMessage.wcu),
      gsi(line.perMessage.gsiRcu, line.perMessage.gsiWcu),
      line.failed > 0 ? num(line.failed / Math.max(1, capacity.messages)) : '',
      num(line.callMs.p50),
      num(line.callMs.p95),
    ]);
    lines.push([
      'total',
      '',
      num(capacity.perMessage.calls),
      num(capacity.perMessage.rcu),
      num(capacity.perMessage.wcu),
      gsi(capacity.perMessage.gsiRcu, capacity.perMessage.gsiWcu),
      '',
      '',
      '',
    ]);
    console.log(
      table(
        [
          'operation',
          'items',
          'calls/msg',
          'RCU/msg',
          'WCU/msg',
          'of it GSI',
          'failed/msg',
          'ms p50',
          'ms p95',
        ],
        lines,
        2,
      ),
    );
    for (const line of capacity.rows) {
      for (const [name, count] of Object.entries(line.failures)) {
        console.log(`  failed: ${line.operation} ${line.target}: ${name} ×${count}`);
      }
      if (line.unreported > 0) {
        console.log(
          `  ${line.operation} ${line.target}: ${line.unreported} call(s) returned no ConsumedCapacity`,
        );
      }
    }
  }
  const setup = cloud?.setupCapacity;
  if (setup) {
    console.log(
      `\nsetup per client (token, chat, ticket, connect, subscribe, ${options.warmup} warm-up message(s)): ` +
        `${num(setup.perMessage.rcu)} RCU, ${num(setup.perMessage.wcu)} WCU, ${num(setup.perMessage.calls)} calls`,
    );
  }
};

// ---- main ----------------------------------------------------------------------------------------------

const leftoverDynamoProcesses = (port: string | undefined): { ours: number; all: number } => {
  let lines: string[];
  try {
    lines = execFileSync('pgrep', ['-af', 'DynamoDBLocal'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    lines = []; // pgrep exits 1 when nothing matches
  }
  const ours = port ? lines.filter((line) => new RegExp(`-port\\s+${port}(\\s|$)`).test(line)).length : 0;
  return { ours, all: lines.length };
};

const main = async (): Promise<number> => {
  const options = parseOptions();
  const runTag = Date.now().toString(36);
  const cleanups: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      for (const stop of cleanups.reverse()) {
        await withTimeout(stop(), 10_000, 'stop').catch((error: unknown) =>
          progress(`stop failed: ${String(error)}`),
        );
      }
    })();
    return cleaning;
  };
  const abort = (why: string, code: number) => {
    progress(`${why}: stopping everything…`);
    const force = setTimeout(() => process.exit(code), 15_000);
    force.unref();
    void cleanup().then(() => process.exit(code));
  };
  const watchdog = setTimeout(() => abort(`the run exceeded ${options.maxRunMs} ms`, 2), options.maxRunMs);
  watchdog.unref();
  process.once('SIGINT', () => abort('SIGINT', 130));
  process.once('SIGTERM', () => abort('SIGTERM', 143));

  const cpuList = cpus();
  const machine = {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${platform()} ${arch()}`,
  };
  console.log(
    `serverless-chat bench: ${options.clients} clients in ${options.chats} chats ` +
      `(${Math.floor(options.clients / options.chats)}–${Math.ceil(options.clients / options.chats)} per chat), ` +
      `${options.messages} measured messages per client, warm-up ${options.warmup}, text ${options.textBytes} B`,
  );
  console.log(
    `machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, node ${machine.node}, ${machine.platform}`,
  );

  const results: RunResult[] = [];
  let appendEstimate: AppendEstimate | undefined;
  let idleCpu: { nodeMsPerSecond: number; dynamoDbLocalMsPerSecond?: number } | undefined;
  let dynamoPort: string | undefined;
  const started = now();
  try {
    for (const targetName of options.targets) {
      let target: Target;
      if (targetName === 'relay') {
        target = await relayTarget();
      } else {
        progress('starting the local cloud (DynamoDB Local, gateways, handlers)…');
        const cloudStarted = now();
        const cloud = await startLocalCloud({
          webPort: 0,
          httpPort: 0,
          wsPort: 0,
          dynamoPort: 0,
          s3Port: 0,
          log: (line) => progress(`[cloud] ${line}`),
        });
        dynamoPort = new URL(cloud.urls.dynamodb).port;
        progress(
          `local cloud up in ${num((now() - cloudStarted) / 1000)} s (DynamoDB Local on ${cloud.urls.dynamodb})`,
        );
        target = cloudTarget(cloud);
        // Background cost with no traffic (the stream poller polls every 25 ms), to read the CPU rows against.
        const idleMs = 3_000;
        const before = { node: ownCpuMs(), dynamo: processCpuMs(target.dynamoPid), at: now() };
        await sleep(idleMs);
        const seconds = (now() - before.at) / 1000;
        const dynamoAfter = processCpuMs(target.dynamoPid);
        idleCpu = {
          nodeMsPerSecond: round((ownCpuMs() - before.node) / seconds, 1),
          ...(dynamoAfter !== undefined && before.dynamo !== undefined
            ? { dynamoDbLocalMsPerSecond: round((dynamoAfter - before.dynamo) / seconds, 1) }
            : {}),
        };
      }
      let stopped = false;
      const stopTarget = async () => {
        if (stopped) return;
        stopped = true;
        await target.stop();
      };
      cleanups.push(stopTarget);
      for (const mode of options.modes) {
        progress(`${targetName} / ${mode} loop…`);
        const result = await runOnce(target, mode, options, runTag);
        progress(
          `${targetName} / ${mode} loop: ${result.messages.acked} messages, p50 ${num(result.latencyMs.p50)} ms, ` +
            `lost ${result.deliveries.lost}, duplicates ${result.deliveries.duplicates}`,
        );
        results.push(result);
      }
      const sampleChat = results.at(-1)?.seq.perChat[0]?.chatId;
      if (target.estimateAppend && sampleChat) {
        appendEstimate = await target.estimateAppend(sampleChat).catch((error: unknown) => {
          progress(`could not read back the items of one append: ${String(error)}`);
          return undefined;
        });
      }
      await stopTarget();
    }
  } finally {
    await cleanup();
  }
  const leftover = leftoverDynamoProcesses(dynamoPort);

  for (const mode of options.modes) {
    printMode(
      mode,
      options,
      results.filter((result) => result.mode === mode),
    );
  }
  if (appendEstimate) {
    const { chat, message, idempotency } = appendEstimate.itemBytes;
    const sample = results
      .find((result) => result.capacity)
      ?.capacity?.rows.find((row) => row.operation === 'TransactWriteItems')?.sample;
    const first: unknown = Array.isArray(sample) ? sample[0] : sample;
    const table = isRecord(first) && isRecord(first.Table) ? first.Table.CapacityUnits : undefined;
    console.log(
      `\nnote: one append writes a chat item of ${chat} B, a message of ${message} B and an idempotency ` +
        `record of ${idempotency} B in one transaction. AWS bills transactional writes 2 WCU per started KB ` +
        `of each item, so ${appendEstimate.awsTableWcu} WCU on the table; DynamoDB Local reported ` +
        `${String(table ?? '?')} (it under-counts multi-item transactions, see docs/benchmarks.md).`,
    );
  }
  if (idleCpu) {
    console.log(
      `idle local cloud (no traffic, 3 s): node ${num(idleCpu.nodeMsPerSecond)} CPU ms/s, DynamoDB Local ` +
        `${idleCpu.dynamoDbLocalMsPerSecond === undefined ? '–' : num(idleCpu.dynamoDbLocalMsPerSecond)} CPU ms/s`,
    );
  }
  const failures = results.filter(
    (result) =>
      result.deliveries.lost > 0 ||
      result.deliveries.duplicates > 0 ||
      result.seq.gaps > 0 ||
      result.seq.conflicts > 0 ||
      result.messages.failed > 0,
  );
  console.log(
    `\nintegrity: ${failures.length === 0 ? 'OK (no lost or duplicated deliveries, no seq gaps, no failed sends)' : `FAILED in ${failures.map((result) => `${result.target}/${result.mode}`).join(', ')}`}`,
  );
  console.log(
    `DynamoDB Local processes left after stop: ${leftover.ours} of this run` +
      (leftover.all > leftover.ours
        ? ` (${leftover.all - leftover.ours} others running on this machine)`
        : ''),
  );

  const out = resolve(ROOT, options.out);
  mkdirSync(dirname(out), { recursive: true });
  const ratios = Object.fromEntries(
    options.modes.flatMap((mode) => {
      const relay = results.find((result) => result.mode === mode && result.target === 'relay');
      const cloud = results.find((result) => result.mode === mode && result.target === 'cloud');
      return relay && cloud ? [[mode, ratiosOf(cloud, relay)]] : [];
    }),
  );
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        startedAt: new Date(Date.now() - (now() - started)).toISOString(),
        durationMs: round(now() - started, 0),
        command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
        options,
        machine,
        results,
        ratiosCloudOverRelay: ratios,
        appendTransactionEstimate: appendEstimate,
        integrityOk: failures.length === 0,
        idleCloudCpu: idleCpu,
        leftoverDynamoDbLocalProcesses: leftover.ours,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`results: ${out}  (total ${num((now() - started) / 1000)} s)`);
  meter.uninstall();
  return failures.length === 0 && leftover.ours === 0 ? 0 : 1;
};

main().then(
  (code) => {
    process.exitCode = code;
    // Everything was stopped; if some handle still keeps the loop alive, say which and leave anyway.
    const linger = setTimeout(() => {
      progress(
        `still alive 3 s after the end; active resources: ${process.getActiveResourcesInfo().join(', ')}`,
      );
      process.exit(code);
    }, 3_000);
    linger.unref();
  },
  (error: unknown) => {
    if (
      error instanceof OptionError ||
      (error instanceof Error && 'code' in error && error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION')
    ) {
      console.error(`bench: ${error.message}\n\n${usage()}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
