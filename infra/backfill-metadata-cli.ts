/**
 * `npm run backfill-metadata -- --table NAME [--endpoint URL] [--region R] [--keys a,b,c] [--dry-run]
 * [--segments N]`: rewrites every chat's metadata index attributes for the indexed keys
 * (shared/adapters/dynamo/metadata-backfill.ts). Run it after the deploy that changed the functions'
 * INDEXED_METADATA_KEYS (docs/deploy.md, "Indexed metadata keys"). Exit codes: 0 done, 1 failed, 2 usage.
 */
import { parseArgs } from 'node:util';
import { createTableContext, type TableContext } from '../shared/adapters/dynamo/client.ts';
import { backfillMetadata, type BackfillOptions } from '../shared/adapters/dynamo/metadata-backfill.ts';
import { DEFAULT_INDEXED_METADATA_KEYS, parseIndexedMetadataKeys } from '../shared/config/metadata-index.ts';

export const USAGE =
  'usage: npm run backfill-metadata -- --table NAME [--endpoint URL] [--region R] [--keys a,b,c] [--dry-run] [--segments N]';
export const MAX_SEGMENTS = 100;

/** A mistake on the command line: exit code 2, the message and the usage on stderr. */
export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface BackfillArgs {
  readonly table: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly keys: string[];
  /** Where the keys came from: `--keys`, INDEXED_METADATA_KEYS, or the default list. */
  readonly keysFrom: '--keys' | 'INDEXED_METADATA_KEYS' | 'default';
  readonly dryRun: boolean;
  readonly segments: number;
}

const OPTIONS = {
  table: { type: 'string' },
  endpoint: { type: 'string' },
  region: { type: 'string' },
  keys: { type: 'string' },
  'dry-run': { type: 'boolean' },
  segments: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses the command line; undefined for --help. Throws UsageError. */
export const parseBackfillArgs = (
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): BackfillArgs | undefined => {
  let values: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; args: string[] }>>['values'];
  try {
    ({ values } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false }));
  } catch (error) {
    // Node's messages name the flag; drop its hint about positionals, which this command has none of.
    throw new UsageError(
      (error as Error).message.split('. To specify a positional')[0] ?? 'invalid arguments',
    );
  }
  if (values.help) return undefined;
  if (!values.table) throw new UsageError('--table NAME is required');
  if (values.endpoint !== undefined && !URL.canParse(values.endpoint))
    throw new UsageError(`--endpoint must be a URL, got "${values.endpoint}"`);
  if (values.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(values.region))
    throw new UsageError(`--region must be an AWS region like eu-west-1, got "${values.region}"`);
  const segments = values.segments === undefined ? 4 : Number(values.segments);
  if (!Number.isInteger(segments) || segments < 1 || segments > MAX_SEGMENTS)
    throw new UsageError(
      `--segments must be a whole number from 1 to ${MAX_SEGMENTS}, got "${values.segments}"`,
    );
  const [raw, keysFrom, source] =
    values.keys !== undefined
      ? ([values.keys, '--keys', '--keys'] as const)
      : env.INDEXED_METADATA_KEYS !== undefined
        ? ([env.INDEXED_METADATA_KEYS, 'INDEXED_METADATA_KEYS', 'INDEXED_METADATA_KEYS'] as const)
        : ([DEFAULT_INDEXED_METADATA_KEYS, 'default', 'default'] as const);
  let keys: string[];
  try {
    keys = parseIndexedMetadataKeys(raw, source);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    table: values.table,
    ...(values.endpoint ? { endpoint: values.endpoint } : {}),
    ...(values.region ? { region: values.region } : {}),
    keys,
    keysFrom,
    dryRun: values['dry-run'] ?? false,
    segments,
  };
};

export interface CliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** How the table is reached (tests); default createTableContext. */
  readonly connect?: (table: string, endpoint?: string, region?: string) => TableContext;
  /** Extra backfill options (tests: page size). */
  readonly backfill?: Partial<BackfillOptions>;
}

const defaultIo: CliIo = { out: (line) => console.log(line), err: (line) => console.error(line) };

/** Runs the command; resolves to the process exit code. */
export const runBackfillCli = async (argv: readonly string[], io: CliIo = defaultIo): Promise<number> => {
  let args: BackfillArgs | undefined;
  try {
    args = parseBackfillArgs(argv, io.env ?? process.env);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(`error: ${error.message}`);
    io.err(USAGE);
    return error.exitCode;
  }
  if (!args) {
    io.out(USAGE);
    return 0;
  }
  const table = (io.connect ?? createTableContext)(args.table, args.endpoint, args.region);
  io.out(
    `backfill-metadata: table ${args.table}, keys ${args.keys.join(', ')} (${args.keysFrom}), ` +
      `${args.segments} segment(s)${args.dryRun ? ', dry run: nothing is written' : ''}`,
  );
  try {
    const counts = await backfillMetadata(table, {
      ...io.backfill,
      keys: args.keys,
      segments: args.segments,
      dryRun: args.dryRun,
      log: io.err,
    });
    io.out(
      [
        `scanned ${counts.scanned}`,
        `${args.dryRun ? 'would update' : 'updated'} ${counts.updated}`,
        `unchanged ${counts.unchanged}`,
        `retried ${counts.retried}`,
        `skipped ${counts.skipped}`,
        `failed ${counts.failed}`,
        `throttled ${counts.throttled}`,
      ].join('  '),
    );
    return counts.failed > 0 ? 1 : 0;
  } catch (error) {
    io.err(`error: ${(error as Error).name}: ${(error as Error).message}`);
    return 1;
  }
};
