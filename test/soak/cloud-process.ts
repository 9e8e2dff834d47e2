/**
 * The soak's local cloud, in a process of its own (forked by test/soak/cloud.ts with `--expose-gc`), so
 * that its heap and handle counts are the cloud's alone, not the soak clients'. It answers over IPC:
 * `sample` (after a full GC: heap used, RSS, active handles by type), `idle` (the stream consumers have
 * caught up), `stop`. Every `console.error` / `console.warn` line — the handlers' ERROR and WARN logs
 * (Powertools logs through the global console in the local cloud) and the gateways' own failures — is
 * counted and forwarded, so the soak can require "no error logs".
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { startLocalCloud } from '../../infra/local/cloud.ts';

export type CloudRequest = { id: number; type: 'sample' | 'idle' | 'stop' };

export interface CloudSample {
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  /** process.getActiveResourcesInfo(): every active handle and request, by type. */
  readonly handles: Readonly<Record<string, number>>;
  readonly handleTotal: number;
}

export type CloudMessage =
  | { type: 'ready'; urls: { http: string; ws: string; dynamodb: string }; tableName: string }
  | { type: 'log'; level: 'error' | 'warn'; text: string }
  | { type: 'reply'; id: number; sample?: CloudSample }
  | { type: 'failed'; error: string };

const send = (message: CloudMessage): void => {
  process.send?.(message);
};

const collectGarbage = (): void => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
};

const sample = (): CloudSample => {
  collectGarbage();
  const handles: Record<string, number> = {};
  const resources = process.getActiveResourcesInfo();
  for (const type of resources) handles[type] = (handles[type] ?? 0) + 1;
  const memory = process.memoryUsage();
  return { heapUsedBytes: memory.heapUsed, rssBytes: memory.rss, handles, handleTotal: resources.length };
};

const forward = (level: 'error' | 'warn', original: (...args: unknown[]) => void) =>
  function (...args: unknown[]): void {
    const text = args
      .map((arg) => (arg instanceof Error ? (arg.stack ?? arg.message) : String(arg)))
      .join(' ');
    send({ type: 'log', level, text: text.slice(0, 2_000) });
    original.apply(console, args);
  };
console.error = forward('error', console.error.bind(console));
console.warn = forward('warn', console.warn.bind(console));

try {
  const cloud = await startLocalCloud({
    webPort: 0,
    httpPort: 0,
    wsPort: 0,
    log: (line) => console.error(`[local cloud] ${line}`),
  });
  // SOAK_CPU_PROFILE=<file.cpuprofile>: the cloud's CPU profile from ready to stop (Chrome DevTools format).
  const profileFile = process.env.SOAK_CPU_PROFILE;
  const profiler = profileFile ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  const writeProfile = async (): Promise<void> => {
    if (!profiler || !profileFile) return;
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(profileFile, JSON.stringify(profile));
  };
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= writeProfile().then(() => cloud.stop()));
  process.on('message', (request: CloudRequest) => {
    void (async () => {
      if (request.type === 'sample') send({ type: 'reply', id: request.id, sample: sample() });
      if (request.type === 'idle') {
        await cloud.idle();
        send({ type: 'reply', id: request.id });
      }
      if (request.type === 'stop') {
        await stop();
        process.send?.({ type: 'reply', id: request.id } satisfies CloudMessage, () => process.exit(0));
      }
    })();
  });
  // The parent going away (a killed soak) stops the cloud and its DynamoDB Local with it.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  send({
    type: 'ready',
    urls: { http: cloud.urls.http, ws: cloud.urls.ws, dynamodb: cloud.urls.dynamodb },
    tableName: cloud.tableName,
  });
} catch (error) {
  send({ type: 'failed', error: String(error) });
  process.exit(1);
}
