/**
 * `npm run chaos -- --messages 2000 [--chats 20 --clients 20 --per-chat 3 --seed 1 --rate 15
 *   --plan full|none|<file.json> --log <file>]`
 * Starts a local cloud with the fault plan (default: full), drives the SDK clients and the senders
 * (driver.ts), prints the checker's counts (checker.ts) and exits non-zero on any loss, duplicate,
 * disorder or liveness breach.
 */
import { parseArgs } from 'node:util';
import { stop as stopEsbuild } from 'esbuild';
import { FULL_PLAN, loadFaultPlan } from '../../infra/local/faults.ts';
import { CHAOS_DEFAULTS, runChaos } from './driver.ts';
import { formatVerdict } from './checker.ts';

const { values } = parseArgs({
  options: {
    messages: { type: 'string' },
    chats: { type: 'string' },
    clients: { type: 'string' },
    'per-chat': { type: 'string' },
    seed: { type: 'string' },
    rate: { type: 'string' },
    concurrency: { type: 'string' },
    plan: { type: 'string' },
    log: { type: 'string' },
  },
});

const int = (value: string | undefined, fallback: number, name: string): number => {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) {
    console.error(`npm run chaos: --${name} must be a positive integer`);
    process.exit(2);
  }
  return parsed;
};

const planSpec = values.plan ?? 'full';
const plan = planSpec === 'none' ? undefined : planSpec === 'full' ? FULL_PLAN : loadFaultPlan(planSpec);
const seed = int(values.seed, CHAOS_DEFAULTS.seed, 'seed');
const options = {
  ...CHAOS_DEFAULTS,
  messages: int(values.messages, CHAOS_DEFAULTS.messages, 'messages'),
  chats: int(values.chats, CHAOS_DEFAULTS.chats, 'chats'),
  clients: int(values.clients, CHAOS_DEFAULTS.clients, 'clients'),
  perChat: int(values['per-chat'], CHAOS_DEFAULTS.perChat, 'per-chat'),
  rate: int(values.rate, CHAOS_DEFAULTS.rate, 'rate'),
  concurrency: int(values.concurrency, CHAOS_DEFAULTS.concurrency, 'concurrency'),
  seed,
  ...(plan ? { plan: { ...plan, seed } } : {}),
  ...(values.log ? { logFile: values.log } : {}),
};
const print = (line: string) => process.stdout.write(`${line}\n`);
const begun = Date.now();
const progress = (line: string) => print(`[${((Date.now() - begun) / 1000).toFixed(1)} s] ${line}`);
print(
  `chaos: ${options.messages} messages, ${options.chats} chats, ${options.clients} SDK clients (${options.perChat} per chat), ` +
    `plan ${planSpec}, seed ${seed}`,
);
try {
  const result = await runChaos({ ...options, progress });
  print(formatVerdict(result.verdict, result.faults, result.elapsedMs));
  print(
    `SDK errors: ${
      Object.entries(result.sdkErrors)
        .map(([key, count]) => `${key} ×${count}`)
        .join(', ') || 'none'
    }`,
  );
  print(
    `reconnects ${result.reconnects.count}, longest ${result.reconnects.longestMs} ms without a connection`,
  );
  print(
    `pushed message frames ${result.pushedFrames}; ${result.consoleLines} log line(s)${values.log ? ` in ${values.log}` : ' (--log FILE keeps them)'}`,
  );
  await stopEsbuild();
  process.exit(result.verdict.ok ? 0 : 1);
} catch (error) {
  console.error(`npm run chaos: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  await stopEsbuild();
  process.exit(2);
}
