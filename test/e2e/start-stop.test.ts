/**
 * `npm start` as a user runs it: a separate process that prints its URLs and `ready`, keeps data with
 * --persist, and leaves no child process (DynamoDB Local's java) behind on SIGINT or SIGTERM.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../infra/local/free-port.ts';

const root = new URL('../..', import.meta.url).pathname;
const persistDir = mkdtempSync(join(tmpdir(), 'chat-persist-'));
const started: ChildProcess[] = [];

afterAll(() => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  rmSync(persistDir, { recursive: true, force: true });
});

const start = async (args: string[]) => {
  const [web, http, ws] = await freePorts(3);
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts', ...args], {
    cwd: root,
    env: {
      ...process.env,
      CHAT_WEB_PORT: String(web),
      CHAT_HTTP_PORT: String(http),
      CHAT_WS_PORT: String(ws),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const deadline = Date.now() + 30_000;
  while (!/^ready/m.test(output)) {
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`local cloud did not get ready:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, output: () => output, httpUrl: `http://localhost:${http}` };
};

/** Descendant pids of a process (children of children…), read from /proc. */
const descendants = (pid: number): number[] => {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,ppid=']).toString();
  const pairs = out
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of pairs) {
      if (ppid === parent) {
        found.push(child);
        walk(child);
      }
    }
  };
  walk(pid);
  return found;
};

/** Gone, or a zombie waiting for a reaper (it no longer runs). */
const stopped = (pid: number): boolean => {
  const status = `/proc/${pid}/status`;
  if (!existsSync(status)) return true;
  return /^State:\s+Z/m.test(readFileSync(status, 'utf8'));
};

const stop = async (child: ChildProcess, signal: NodeJS.Signals) => {
  const children = descendants(child.pid ?? -1);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const began = Date.now();
  child.kill(signal);
  const code = await exited;
  const elapsedMs = Date.now() - began;
  // A helper that ends on its own when its parent's pipes close (esbuild's service) may need a few
  // milliseconds after the parent's exit: wait for every descendant to be gone, up to 2 s.
  const deadline = Date.now() + 2_000;
  while (children.some((pid) => !stopped(pid)) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  return { code, elapsedMs, children, lingering: children.filter((pid) => !stopped(pid)) };
};

const dev = async (httpUrl: string) => {
  const response = await fetch(`${httpUrl}/v1/dev/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenantId: 'demo', userId: 'alice', role: 'user' }),
  });
  return ((await response.json()) as { token: string }).token;
};

describe('npm start', () => {
  it('prints its URLs and ready, keeps data with --persist, and stops every child on SIGINT and SIGTERM', async () => {
    // Prepare: a first run that stores a chat
    const first = await start(['--persist', persistDir]);
    const token = await dev(first.httpUrl);
    const created = await fetch(`${first.httpUrl}/v1/chats`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ subject: 'kept' }),
    });
    const { chatId } = (await created.json()) as { chatId: string };

    // Act: stop with SIGINT (Ctrl-C), start again on the same data, stop with SIGTERM
    const sigint = await stop(first.child, 'SIGINT');
    const second = await start(['--persist', persistDir]);
    const again = await fetch(`${second.httpUrl}/v1/chats/${chatId}`, {
      headers: { authorization: `Bearer ${await dev(second.httpUrl)}` },
    });
    const sigterm = await stop(second.child, 'SIGTERM');

    // Assess
    expect(first.output()).toMatch(/Widget demo\s+http:\/\/localhost:\d+\//);
    expect(first.output()).toMatch(/WebSocket\s+ws:\/\/localhost:\d+/);
    expect(first.output()).toMatch(/Browser SDK\s+http:\/\/localhost:\d+\/sdk\/chat\.js/);
    expect(created.status).toBe(201);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { subject: string }).subject).toBe('kept');
    for (const run of [sigint, sigterm]) {
      expect(run.code).toBe(0);
      expect(run.elapsedMs).toBeLessThan(5_000);
      expect(run.children.length).toBeGreaterThan(0);
      expect(run.lingering).toEqual([]);
    }
  }, 90_000);

  it('refuses a bad INDEXED_METADATA_KEYS with one clear line and exit code 1, not a stack trace', async () => {
    // Act
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/local/main.ts'], {
      cwd: root,
      env: { ...process.env, INDEXED_METADATA_KEYS: 'project_id,project_id' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.push(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    // Assess
    expect(code).toBe(1);
    expect(stderr).toContain('npm start: INDEXED_METADATA_KEYS: "project_id" is listed twice');
    expect(stderr).not.toMatch(/\n\s+at /);
  });
});
