/** The benchmark's options: each an argument, an environment variable and a default (`--help`). */
import { parseArgs } from 'node:util';
import { STREAM_POLLINGS, type StreamPolling } from '../../infra/local/stream-pace.ts';

export const MODES = ['open', 'light', 'closed', 'hot', 'polling', 'broadcast', 'reactions'] as const;
export type Mode = (typeof MODES)[number];
/** The modes that run one load shape against the relay and the cloud side by side. */
export type LoadMode = Exclude<Mode, 'hot' | 'polling' | 'broadcast' | 'reactions'>;
export type TargetName = 'relay' | 'cloud';

export type Via = 'ws' | 'http';
export const AUDIENCES = ['agents', 'participants'] as const;
/** Who watches the broadcast chat: agents of the tenant, or participants of the chat. */
export type Audience = (typeof AUDIENCES)[number];

export interface Options {
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
  /** The local cloud's stream polling: its own quick one, or Lambda's documented base rate. */
  readonly streamPolling: StreamPolling;
  /** `hot` mode: closed-loop senders, all in one chat, then each in its own. */
  readonly hot: {
    readonly senders: number;
    readonly durationMs: number;
    /** Messages per sender instead of a duration; 0: send for `durationMs`. */
    readonly messages: number;
    readonly ackTimeoutMs: number;
    readonly via: Via;
  };
  /** `polling` mode: visitors polling their chats as the browser SDK does, each with a counterpart. */
  readonly polling: {
    readonly pollers: number;
    /** The measured window (the `--duration` option; 120 s unless given). */
    readonly durationMs: number;
    /** A counterpart sends one message every sendMinMs..sendMaxMs (uniform, seeded). */
    readonly sendMinMs: number;
    readonly sendMaxMs: number;
    /** The SDK's pollWaitSeconds: 0 short polls paced by the server, above 0 long polls. */
    readonly waitSeconds: number;
  };
  /** `broadcast` mode: one chat, `subscribers` sockets watching it, one sender. */
  readonly broadcast: {
    readonly subscribers: number;
    readonly audience: Audience;
    readonly messages: number;
    /** ms between two sends; 0: the next one as soon as the previous is acked. */
    readonly intervalMs: number;
  };
  /** `reactions` mode: reactions to one message, one after the other. */
  readonly reactions: number;
  /** Exit 1 when a goal of the hot, polling or broadcast mode is missed (integrity failures always do). */
  readonly strict: boolean;
}

interface OptionSpec {
  readonly env: string;
  readonly fallback: string;
  readonly help: string;
  /** A switch (`--name`, or the variable set to 1 or true) instead of `--name value`. */
  readonly flag?: true;
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
    help: 'load shapes to run, any of open, light, closed, hot, polling, broadcast, reactions',
  },
  targets: { env: 'BENCH_TARGETS', fallback: 'relay,cloud', help: 'systems to run: relay, cloud or both' },
  warmup: { env: 'BENCH_WARMUP', fallback: '1', help: 'unmeasured messages per client before each run' },
  'text-bytes': { env: 'BENCH_TEXT_BYTES', fallback: '64', help: 'length of each message text' },
  'phase-timeout': { env: 'BENCH_PHASE_TIMEOUT_MS', fallback: '60000', help: 'stop sending after this long' },
  drain: {
    env: 'BENCH_DRAIN_MS',
    fallback: '10000',
    help: 'wait at most this long for late deliveries (broadcast: for the next one)',
  },
  'max-run': {
    env: 'BENCH_MAX_RUN_MS',
    fallback: '300000',
    help: 'watchdog: abort the whole run after this',
  },
  seed: { env: 'BENCH_SEED', fallback: '1', help: 'seed of the jitter' },
  out: { env: 'BENCH_OUT', fallback: 'bench-results/latest.json', help: 'JSON results file' },
  'stream-polling': {
    env: 'BENCH_STREAM_POLLING',
    fallback: 'local',
    help: "cloud: the stream polled every 25 ms and on each write (local) or 4 times a second (aws, Lambda's base rate)",
  },
  senders: {
    env: 'BENCH_SENDERS',
    fallback: '50',
    help: 'hot: closed-loop senders (one chat, then one each)',
  },
  duration: {
    env: 'BENCH_DURATION_MS',
    fallback: '20000',
    help: 'hot: ms each shape sends for; polling: ms measured (120000 unless given)',
  },
  'hot-messages': {
    env: 'BENCH_HOT_MESSAGES',
    fallback: '0',
    help: 'hot: messages per sender instead of --duration (0: use --duration)',
  },
  'ack-timeout': {
    env: 'BENCH_ACK_TIMEOUT_MS',
    fallback: '10000',
    help: 'hot: a send not answered within this is a client time-out',
  },
  via: {
    env: 'BENCH_VIA',
    fallback: 'ws',
    help: 'hot: send over ws (sendMessage) or http (POST …/messages)',
  },
  pollers: { env: 'BENCH_POLLERS', fallback: '50', help: 'polling: visitors, each in its own chat' },
  'poll-send-min': {
    env: 'BENCH_POLL_SEND_MIN_MS',
    fallback: '20000',
    help: 'polling: a counterpart sends every min..max ms',
  },
  'poll-send-max': { env: 'BENCH_POLL_SEND_MAX_MS', fallback: '60000', help: 'polling: (uniform)' },
  'poll-wait': {
    env: 'BENCH_POLL_WAIT_SECONDS',
    fallback: '0',
    help: "polling: the SDK's pollWaitSeconds (0: short polls)",
  },
  subscribers: {
    env: 'BENCH_SUBSCRIBERS',
    fallback: '500',
    help: 'broadcast: sockets subscribed to the chat',
  },
  audience: {
    env: 'BENCH_AUDIENCE',
    fallback: 'agents',
    help: 'broadcast: who subscribes, agents or participants',
  },
  'broadcast-messages': {
    env: 'BENCH_BROADCAST_MESSAGES',
    fallback: '50',
    help: 'broadcast: measured messages of the one sender',
  },
  'broadcast-interval': {
    env: 'BENCH_BROADCAST_INTERVAL_MS',
    fallback: '0',
    help: 'broadcast: ms between sends (0: closed loop)',
  },
  reactions: {
    env: 'BENCH_REACTIONS',
    fallback: '200',
    help: 'reactions: measured reactions to one message',
  },
  strict: {
    env: 'BENCH_STRICT',
    fallback: 'off',
    help: 'exit 1 when a goal of the hot, polling or broadcast mode is missed',
    flag: true,
  },
} as const satisfies Record<string, OptionSpec>;
type OptionName = keyof typeof OPTIONS;

export const usage = (): string =>
  [
    'npm run bench -- [--name value]…   (or the environment variables)',
    ...Object.entries(OPTIONS).map(
      ([name, spec]) =>
        `  --${name.padEnd(18)} ${spec.env.padEnd(27)} ${spec.fallback.padEnd(26)} ${spec.help}`,
    ),
  ].join('\n');

export class OptionError extends Error {}

const isFlag = (name: string): boolean => 'flag' in (OPTIONS[name as OptionName] as OptionSpec);

export const parseOptions = (argv: readonly string[] = process.argv.slice(2)): Options => {
  const values: Record<string, string | boolean | undefined> = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(
        Object.keys(OPTIONS).map((name) => [
          name,
          { type: isFlag(name) ? ('boolean' as const) : ('string' as const) },
        ]),
      ),
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
  const flag = (name: OptionName): boolean =>
    values[name] === true || ['1', 'true', 'on'].includes(process.env[OPTIONS[name].env] ?? '');
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
  const one = <T extends string>(name: OptionName, allowed: readonly T[]): T => {
    const value = raw(name).trim();
    if (!(allowed as readonly string[]).includes(value)) {
      throw new OptionError(
        `--${name} (${OPTIONS[name].env}) must be one of ${allowed.join(', ')}, got ${value}`,
      );
    }
    return value as T;
  };
  const clients = int('clients', 1, 2000);
  const chats = int('chats', 1, clients);
  const intervalMs = int('interval', 1, 60_000);
  const lightIntervalMs = int('light-interval', 1, 60_000);
  const durationGiven = typeof values.duration === 'string' || process.env.BENCH_DURATION_MS !== undefined;
  const sendMinMs = int('poll-send-min', 100, 3_600_000);
  return {
    clients,
    chats,
    messages: int('messages', 1, 100_000),
    intervalMs,
    jitterMs: int('jitter', 0, Math.max(intervalMs - 1, 0)),
    lightIntervalMs,
    lightJitterMs: int('light-jitter', 0, Math.max(lightIntervalMs - 1, 0)),
    thinkMs: int('think', 0, 60_000),
    modes: list<Mode>('modes', MODES),
    targets: list<TargetName>('targets', ['relay', 'cloud']),
    warmup: int('warmup', 0, 100),
    textBytes: int('text-bytes', 1, 8000),
    phaseTimeoutMs: int('phase-timeout', 1000, 3_600_000),
    drainMs: int('drain', 100, 600_000),
    maxRunMs: int('max-run', 10_000, 3_600_000),
    seed: int('seed', 0, 2 ** 31 - 1),
    out: raw('out'),
    streamPolling: one<StreamPolling>('stream-polling', STREAM_POLLINGS),
    hot: {
      senders: int('senders', 1, 1000),
      durationMs: int('duration', 1000, 3_600_000),
      messages: int('hot-messages', 0, 100_000),
      ackTimeoutMs: int('ack-timeout', 100, 120_000),
      via: one<Via>('via', ['ws', 'http']),
    },
    polling: {
      pollers: int('pollers', 1, 1000),
      durationMs: durationGiven ? int('duration', 1000, 3_600_000) : 120_000,
      sendMinMs,
      sendMaxMs: int('poll-send-max', sendMinMs, 3_600_000),
      waitSeconds: int('poll-wait', 0, 20),
    },
    broadcast: {
      subscribers: int('subscribers', 1, 5000),
      audience: one<Audience>('audience', AUDIENCES),
      messages: int('broadcast-messages', 1, 100_000),
      intervalMs: int('broadcast-interval', 0, 60_000),
    },
    reactions: int('reactions', 1, 100_000),
    strict: flag('strict'),
  };
};

/** The send schedule of an open-loop mode; undefined for the closed loop. */
export const pace = (
  mode: LoadMode,
  options: Options,
): { intervalMs: number; jitterMs: number } | undefined => {
  if (mode === 'open') return { intervalMs: options.intervalMs, jitterMs: options.jitterMs };
  if (mode === 'light') return { intervalMs: options.lightIntervalMs, jitterMs: options.lightJitterMs };
  return undefined;
};
