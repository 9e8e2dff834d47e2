/**
 * CPU time of this process and of DynamoDB Local (from /proc), over a window too, and finding DynamoDB
 * Local's processes.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { round } from './stats.ts';
import { now } from './util.ts';

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU ms of another process (all its threads), from /proc; undefined where there is none. */
export const processCpuMs = (pid: number | undefined): number | undefined => {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
};

export const ownCpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

/** CPU time used over a window: this process's, DynamoDB Local's, and the load average around it. */
export interface CpuUse {
  readonly wallMs: number;
  readonly nodeMs: number;
  readonly dynamoDbLocalMs?: number;
  readonly loadAverage1m: { readonly before: number; readonly after: number };
}

/** Starts a window of CPU time of this process and of DynamoDB Local (`dynamoPid`); `stop()` measures it. */
export const cpuWindow = (dynamoPid: number | undefined): { stop(): CpuUse } => {
  const before = { at: now(), node: ownCpuMs(), dynamo: processCpuMs(dynamoPid), load: loadavg()[0] ?? 0 };
  return {
    stop: () => {
      const dynamoAfter = processCpuMs(dynamoPid);
      return {
        wallMs: round(now() - before.at, 0),
        nodeMs: round(ownCpuMs() - before.node, 0),
        ...(dynamoAfter !== undefined && before.dynamo !== undefined
          ? { dynamoDbLocalMs: round(dynamoAfter - before.dynamo, 0) }
          : {}),
        loadAverage1m: { before: round(before.load, 2), after: round(loadavg()[0] ?? 0, 2) },
      };
    },
  };
};

/** `pid command line` of every DynamoDB Local process on the machine. */
const dynamoProcesses = (): string[] => {
  try {
    return execFileSync('pgrep', ['-af', 'DynamoDBLocal'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};

const listensOn = (line: string, port: string): boolean => new RegExp(`-port\\s+${port}(\\s|$)`).test(line);

/** The pid of the DynamoDB Local started on `port` (the java process, not a wrapper). */
export const dynamoPidOn = (port: string): number | undefined => {
  const line = dynamoProcesses().find((candidate) => listensOn(candidate, port));
  return line ? Number(line.split(' ')[0]) : undefined;
};

/** DynamoDB Local processes still running: on `port` (this run's), and on the whole machine. */
export const leftoverDynamoProcesses = (port: string | undefined): { ours: number; all: number } => {
  const lines = dynamoProcesses();
  const ours = port ? lines.filter((line) => listensOn(line, port)).length : 0;
  return { ours, all: lines.length };
};
