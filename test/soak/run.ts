/**
 * `npm run soak -- --sockets 1000 --minutes 10`: forks a local cloud (or, with `--http` and `--dynamodb`,
 * uses a running one: no heap, handle or log figures then), runs the soak and the reconnect storm, prints
 * the report and exits non-zero if any check failed.
 *
 * Options: --sockets N (1000), --minutes M (10), --ping-seconds S (30), --rate MESSAGES_PER_SECOND,
 * --closes-per-minute N, --storm-seconds S (60), --http URL --dynamodb URL [--table NAME].
 */
import { parseArgs } from 'node:util';
import { attachCloud, forkCloud, type SoakCloud } from './cloud.ts';
import { failures, formatReport } from './report.ts';
import { defaultOptions, runSoak } from './soak.ts';

// The leak scan reads DynamoDB Local: any region and credentials do.
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const { values } = parseArgs({
  options: {
    sockets: { type: 'string', default: '1000' },
    minutes: { type: 'string', default: '10' },
    'ping-seconds': { type: 'string' },
    rate: { type: 'string' },
    'closes-per-minute': { type: 'string' },
    'storm-seconds': { type: 'string' },
    http: { type: 'string' },
    dynamodb: { type: 'string' },
    table: { type: 'string' },
  },
});

const number = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number`);
  return parsed;
};

const sockets = Math.round(number('sockets', values.sockets) ?? 1000);
const minutes = number('minutes', values.minutes) ?? 10;
const defaults = defaultOptions(sockets, minutes);
const pingSeconds = number('ping-seconds', values['ping-seconds']);
const rate = number('rate', values.rate);
const closes = number('closes-per-minute', values['closes-per-minute']);
const stormSeconds = number('storm-seconds', values['storm-seconds']);
const started = Date.now();
const log = (line: string) =>
  console.log(`[soak ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

if ((values.http === undefined) !== (values.dynamodb === undefined))
  throw new Error('--http and --dynamodb go together (a running local cloud)');
const cloud: SoakCloud = values.http
  ? attachCloud(values.http, values.dynamodb ?? '', values.table)
  : await forkCloud();
let exitCode = 1;
try {
  const figures = await runSoak(cloud, {
    ...defaults,
    ...(pingSeconds ? { pingMs: pingSeconds * 1000 } : {}),
    ...(rate ? { messagesPerSecond: rate } : {}),
    ...(closes ? { closesPerMinute: closes } : {}),
    ...(stormSeconds ? { stormDeadlineMs: stormSeconds * 1000 } : {}),
    log,
  });
  console.log(formatReport(figures));
  exitCode = failures(figures).length === 0 ? 0 : 1;
} catch (error) {
  console.error('soak aborted:', error);
} finally {
  await cloud.stop();
}
process.exit(exitCode);
