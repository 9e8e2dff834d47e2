/**
 * Cold starts: bundles every function the CDK stack deploys exactly as the stack does
 * (infra/constructs/bundling.ts) and measures, per function, its bundle size, whether any package was
 * left external, and how long a fresh `node` process takes to `import()` it (the median of `--runs`
 * processes). Budgets: test/bench/cold-budgets.ts; method and meaning: docs/benchmarks.md, "Cold starts".
 *
 *   npm run bench:cold -- [--runs 5] [--filter substring] [--json bench-results/cold.json]
 *
 * Exit code 1 when a function misses its import budget, leaves a package external or fails to import.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { bundleFileName } from '../../infra/constructs/bundling.ts';
import { DEFAULT_MEMORY_MB, type FunctionEnvironment } from '../../infra/constructs/functions.ts';
import { mapLimit } from '../../shared/domain/realtime.ts';
import {
  bundleFunctions,
  deployedFunctions,
  type FunctionBundle,
  PROJECT_ROOT,
} from '../support/lambda-bundles.ts';
import { type BudgetClass, budgetOf } from './cold-budgets.ts';
import { median } from './stats.ts';

/** Lambda's figure: at 1,769 MB a function has the equivalent of one vCPU (docs/benchmarks.md). */
const ONE_VCPU_MB = 1769;
/**
 * Processes importing at once: one. V8 compiles and collects garbage on helper threads too, so two
 * imports side by side on the 2-core machine slowed each other (median 139.9 ms against 122.3 ms one at
 * a time, the same bundles, the same CPU time): the figure is the import of a process that has the
 * machine to itself, as a function instance has its own CPU share.
 */
const PARALLEL = 1;
const PROBE_TIMEOUT_MS = 30_000;

const USAGE = `usage: npm run bench:cold -- [--runs N] [--filter substring] [--json file]
  --runs N            fresh node processes per function; the median counts (default 5)
  --filter substring  only functions whose id or handler path contains it
  --json file         where the results go (default bench-results/cold.json)`;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    filter: { type: 'string' },
    json: { type: 'string', default: 'bench-results/cold.json' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(USAGE);
  process.exit(2);
}
const jsonPath = resolve(values.json);

/**
 * What the stack sets (infra/stack.ts), with dummy values of the production shape (secrets by ARN, a
 * JWKS URL: nothing is fetched at import), plus the variables Lambda itself sets that the SDK and
 * Powertools read at import.
 */
const environment = (id: string, memoryMb: number): Record<string, string> => {
  const stack: FunctionEnvironment = {
    POWERTOOLS_SERVICE_NAME: 'serverless-chat',
    POWERTOOLS_METRICS_NAMESPACE: 'ServerlessChat',
    TABLE_NAME: 'ServerlessChat-DataTable-BENCH',
    WS_MANAGEMENT_ENDPOINT: 'https://abcdef1234.execute-api.eu-west-1.amazonaws.com/live',
    WS_PUBLIC_URL: 'wss://abcdef1234.execute-api.eu-west-1.amazonaws.com/live',
    AUTH_ISSUER: 'https://id.example.org/',
    AUTH_AUDIENCE: 'serverless-chat',
    AUTH_JWKS_URL: 'https://id.example.org/.well-known/jwks.json',
    VISITOR_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:visitor-AbCdEf',
    ATTACHMENTS_BUCKET: 'serverlesschat-attachments-bench',
    ATTACHMENTS_DOWNLOAD_BASE: 'https://d111111abcdef8.cloudfront.net',
  };
  return {
    ...(stack as Record<string, string>),
    AWS_REGION: 'eu-west-1',
    AWS_DEFAULT_REGION: 'eu-west-1',
    AWS_LAMBDA_FUNCTION_NAME: `ServerlessChat-${id}`,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
    // Lambda runs Node.js 22, where the SDK has no version warning to print; this machine may not.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TZ: ':UTC',
  };
};

/**
 * Runs in each fresh process: the time of the bundle's import, the CPU time it took (all threads; far
 * less sensitive than the wall time to other work on the machine), and whether it exports a handler.
 */
const PROBE = `const cpu = process.cpuUsage();
const started = performance.now();
const module = await import(process.argv[1]);
const ms = performance.now() - started;
const { user, system } = process.cpuUsage(cpu);
process.stdout.write(JSON.stringify({ ms, cpuMs: (user + system) / 1000, handler: typeof module.handler }));`;

interface Probe {
  readonly ms: number;
  readonly cpuMs: number;
  readonly handler: string;
}

const probe = (file: string, env: Record<string, string>): Promise<Probe> =>
  new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--input-type=module', '--eval', PROBE, pathToFileURL(file).href],
      { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: PROBE_TIMEOUT_MS },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) {
        try {
          resolvePromise(JSON.parse(stdout) as Probe);
          return;
        } catch {
          // reported below
        }
      }
      const why = signal ? `killed by ${signal}` : `exit code ${code}`;
      reject(new Error(`${why}: ${stderr.trim().split('\n').slice(-3).join(' / ') || stdout}`));
    });
  });

const round1 = (value: number) => Math.round(value * 10) / 10;

/** A plain-text table; `align` has one letter per column, `l` (left) or `r` (right). */
const table = (header: readonly string[], rows: readonly (readonly string[])[], align: string): string => {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        align[column] === 'l' ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
};
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

interface Result {
  readonly id: string;
  readonly handler: string;
  readonly class: BudgetClass;
  readonly memoryMb: number;
  readonly bytes: number;
  readonly gzipBytes: number;
  readonly externalPackages: readonly string[];
  readonly importMs: {
    readonly median: number;
    readonly min: number;
    readonly max: number;
    readonly samples: number[];
  };
  /** Median CPU time of the import (user + system, all threads of the process). */
  readonly importCpuMs: number;
  /** The median scaled to the function's memory size: (1769 / memoryMb) × median. */
  readonly estimatedLambdaMs: number;
  readonly budgetMs: number;
  readonly errors: readonly string[];
  readonly problems: readonly string[];
}

const filter = values.filter;
const functions = deployedFunctions().filter(
  (fn) => !filter || fn.id.includes(filter) || fn.route.handler.includes(filter),
);
if (functions.length === 0) {
  console.error(`no deployed function matches --filter ${filter}`);
  process.exit(2);
}
for (const fn of functions) budgetOf(fn.id); // a function without a budget fails before any work

const log = (line: string) => process.stderr.write(`bench:cold: ${line}\n`);
const workDir = mkdtempSync(join(tmpdir(), 'chat-bench-cold-'));
let exitCode = 0;
/** The 1-minute load average: other work on the machine inflates every wall-clock figure. */
const loadBefore = loadavg()[0] ?? NaN;
try {
  const started = performance.now();
  const bundles = await bundleFunctions(functions, workDir);
  for (const bundle of bundles) {
    for (const [path, contents] of bundle.files) {
      const file = join(workDir, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, contents);
    }
  }
  log(`bundled ${bundles.length} functions in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const fileOf = (bundle: FunctionBundle) => join(workDir, bundle.id, bundleFileName());
  const memoryOf = (bundle: FunctionBundle) => bundle.route.memoryMb ?? DEFAULT_MEMORY_MB;
  const importOnce = (bundle: FunctionBundle) =>
    probe(fileOf(bundle), environment(bundle.id, memoryOf(bundle)));
  // Unmeasured: the first processes pay for loading node itself from disk.
  const first = bundles[0];
  if (first) await mapLimit([first, first], PARALLEL, (bundle) => importOnce(bundle).catch(() => undefined));

  // Run after run over all functions, so a slow spell of the machine spreads over every function.
  const jobs = Array.from({ length: runs }, () => bundles).flat();
  const samples = new Map<string, number[]>(bundles.map((bundle) => [bundle.id, []]));
  const cpuSamples = new Map<string, number[]>(bundles.map((bundle) => [bundle.id, []]));
  const errors = new Map<string, string[]>(bundles.map((bundle) => [bundle.id, []]));
  let done = 0;
  await mapLimit(jobs, PARALLEL, async (bundle) => {
    try {
      const result = await importOnce(bundle);
      if (result.handler !== 'function') throw new Error(`exports no handler function (${result.handler})`);
      samples.get(bundle.id)?.push(result.ms);
      cpuSamples.get(bundle.id)?.push(result.cpuMs);
    } catch (error) {
      errors.get(bundle.id)?.push(error instanceof Error ? error.message : String(error));
    }
    done++;
    if (done % 20 === 0 || done === jobs.length) log(`${done}/${jobs.length} imports`);
  });

  const results: Result[] = bundles.map((bundle) => {
    const budget = budgetOf(bundle.id);
    const measured = samples.get(bundle.id) ?? [];
    const failures = [...new Set(errors.get(bundle.id) ?? [])];
    const importMs = {
      median: round1(median(measured)),
      min: round1(Math.min(...measured)),
      max: round1(Math.max(...measured)),
      samples: measured.map(round1),
    };
    const memoryMb = memoryOf(bundle);
    const importCpuMs = round1(median(cpuSamples.get(bundle.id) ?? []));
    const problems = [
      ...(bundle.externalPackages.length > 0 ? [`external: ${bundle.externalPackages.join(', ')}`] : []),
      ...(failures.length > 0 ? [`import failed: ${failures.join('; ')}`] : []),
      ...(importMs.median > budget.importMs ? [`import ${importMs.median} ms > ${budget.importMs} ms`] : []),
    ];
    return {
      id: bundle.id,
      handler: bundle.route.handler,
      class: budget.class,
      memoryMb,
      bytes: bundle.code.length,
      gzipBytes: gzipSync(bundle.code).length,
      externalPackages: bundle.externalPackages,
      importMs,
      importCpuMs,
      // Lambda's CPU share caps the CPU time of all threads, so that (not the wall time) scales with memory.
      estimatedLambdaMs: Math.round((importCpuMs * ONE_VCPU_MB) / memoryMb),
      budgetMs: budget.importMs,
      errors: failures,
      problems,
    };
  });

  console.log(
    table(
      [
        'function',
        'class',
        'bytes',
        'gzip',
        'external',
        'import ms',
        'min–max',
        'cpu ms',
        'budget',
        'memory',
        '≈ at memory',
        '',
      ],
      results.map((r) => [
        r.id,
        r.class,
        String(r.bytes),
        String(r.gzipBytes),
        r.externalPackages.length > 0 ? r.externalPackages.join(',') : 'none',
        Number.isFinite(r.importMs.median) ? r.importMs.median.toFixed(1) : '–',
        Number.isFinite(r.importMs.min) ? `${r.importMs.min.toFixed(0)}–${r.importMs.max.toFixed(0)}` : '–',
        Number.isFinite(r.importCpuMs) ? r.importCpuMs.toFixed(1) : '–',
        String(r.budgetMs),
        `${r.memoryMb} MB`,
        Number.isFinite(r.estimatedLambdaMs) ? `${r.estimatedLambdaMs} ms` : '–',
        r.problems.length > 0 ? 'MISS' : 'ok',
      ]),
      'llrrlrrrrrrl',
    ),
  );

  const medians = results.map((r) => r.importMs.median).filter(Number.isFinite);
  const slowest = results.reduce<Result | undefined>(
    (worst, r) => (!worst || r.importMs.median > worst.importMs.median ? r : worst),
    undefined,
  );
  const totalBytes = results.reduce((sum, r) => sum + r.bytes, 0);
  const totalGzip = results.reduce((sum, r) => sum + r.gzipBytes, 0);
  const summary = {
    functions: results.length,
    importMsMax: round1(Math.max(...medians)),
    importMsMaxFunction: slowest?.id,
    importMsMedian: round1(median(medians)),
    importCpuMsMedian: round1(median(results.map((r) => r.importCpuMs).filter(Number.isFinite))),
    loadAverage: { before: round1(loadBefore), after: round1(loadavg()[0] ?? NaN) },
    totalBytes,
    totalGzipBytes: totalGzip,
    missed: results.filter((r) => r.problems.length > 0).map((r) => r.id),
  };
  console.log(
    `\n${summary.functions} functions, ${runs} runs each: import median ${summary.importMsMedian} ms, ` +
      `max ${summary.importMsMax} ms (${summary.importMsMaxFunction}); bundles ${kb(totalBytes)} in all ` +
      `(${kb(totalGzip)} gzip), largest ${kb(Math.max(...results.map((r) => r.bytes)))}; ` +
      `load average ${summary.loadAverage.before} before, ${summary.loadAverage.after} after ` +
      `(${availableParallelism()} cores)`,
  );

  const misses = results.filter((r) => r.problems.length > 0);
  if (misses.length > 0) {
    exitCode = 1;
    console.log(`\n${misses.length} function(s) miss their budget:\n`);
    console.log(
      table(
        ['function', 'class', 'import ms', 'budget', 'problem'],
        misses.map((r) => [
          r.id,
          r.class,
          Number.isFinite(r.importMs.median) ? r.importMs.median.toFixed(1) : '–',
          String(r.budgetMs),
          r.problems.join('; '),
        ]),
        'llrrl',
      ),
    );
  }

  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(
    jsonPath,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        machine: {
          node: process.version,
          cpus: availableParallelism(),
          cpu: cpus()[0]?.model,
          platform: process.platform,
        },
        options: { runs, filter: filter ?? null, parallel: PARALLEL, nodeOptions: null },
        summary,
        results,
      },
      null,
      2,
    )}\n`,
  );
  log(`results in ${jsonPath.startsWith(PROJECT_ROOT) ? jsonPath.slice(PROJECT_ROOT.length + 1) : jsonPath}`);
} finally {
  rmSync(workDir, { recursive: true, force: true });
}
process.exit(exitCode);
