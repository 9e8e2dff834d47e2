/**
 * What a benchmark run owns besides its loads: stopping everything it started (at the end, on SIGINT or
 * SIGTERM, or when the watchdog fires), the machine it runs on, starting the local cloud and measuring
 * its idle cost.
 */
import { arch, cpus, platform, totalmem } from 'node:os';
import type { startLocalCloud } from '../../infra/local/cloud.ts';
import { ownCpuMs, processCpuMs } from './cpu.ts';
import { num } from './report.ts';
import { round } from './stats.ts';
import { cloudTarget, type Target } from './targets.ts';
import { now, progress, sleep, withTimeout } from './util.ts';

/** Stops, in reverse order, what was registered; `abort` does so and exits (watchdog and signals). */
export const lifecycle = (maxRunMs: number) => {
  const cleanups: (() => Promise<void>)[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      for (const stop of cleanups.reverse()) {
        await withTimeout(stop(), 10_000, 'stop').catch((error: unknown) =>
          progress(`stop failed: ${String(error)}`),
        );
      }
    })();
    return cleaning;
  };
  const abort = (why: string, code: number) => {
    progress(`${why}: stopping everything…`);
    const force = setTimeout(() => process.exit(code), 15_000);
    force.unref();
    void cleanup().then(() => process.exit(code));
  };
  const watchdog = setTimeout(() => abort(`the run exceeded ${maxRunMs} ms`, 2), maxRunMs);
  watchdog.unref();
  process.once('SIGINT', () => abort('SIGINT', 130));
  process.once('SIGTERM', () => abort('SIGTERM', 143));
  return { onCleanup: (stop: () => Promise<void>) => cleanups.push(stop), cleanup };
};

export const describeMachine = () => {
  const cpuList = cpus();
  return {
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${platform()} ${arch()}`,
  };
};

export interface IdleCpu {
  readonly nodeMsPerSecond: number;
  readonly dynamoDbLocalMsPerSecond?: number;
}

/** Starts the local cloud on free ports, then measures 3 s of it with no traffic. */
export const startCloud = async (
  start: typeof startLocalCloud,
  tenantId: string,
): Promise<{ target: Target; idleCpu: IdleCpu; dynamoPort: string }> => {
  progress('starting the local cloud (DynamoDB Local, gateways, handlers)…');
  const cloudStarted = now();
  const cloud = await start({
    webPort: 0,
    httpPort: 0,
    wsPort: 0,
    dynamoPort: 0,
    s3Port: 0,
    log: (line) => progress(`[cloud] ${line}`),
  });
  const dynamoPort = new URL(cloud.urls.dynamodb).port;
  progress(
    `local cloud up in ${num((now() - cloudStarted) / 1000)} s (DynamoDB Local on ${cloud.urls.dynamodb})`,
  );
  const target = cloudTarget(cloud, tenantId);
  // Background cost with no traffic (the stream poller polls every 25 ms), to read the CPU rows against.
  const idleMs = 3_000;
  const before = { node: ownCpuMs(), dynamo: processCpuMs(target.dynamoPid), at: now() };
  await sleep(idleMs);
  const seconds = (now() - before.at) / 1000;
  const dynamoAfter = processCpuMs(target.dynamoPid);
  const idleCpu = {
    nodeMsPerSecond: round((ownCpuMs() - before.node) / seconds, 1),
    ...(dynamoAfter !== undefined && before.dynamo !== undefined
      ? { dynamoDbLocalMsPerSecond: round((dynamoAfter - before.dynamo) / seconds, 1) }
      : {}),
  };
  return { target, idleCpu, dynamoPort };
};
