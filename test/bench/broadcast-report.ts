/**
 * The `broadcast` mode's figures, verdicts and report: what the Recorder saw of one chat's fan-out to its
 * subscribed sockets, whether every socket got every message once and in order, and the deliveries/s goal.
 */
import type { CapacityReport } from './capacity-report.ts';
import type { CpuUse } from './cpu.ts';
import type { Throughput } from './load.ts';
import type { Audience, Options } from './options.ts';
import type { Recorder } from './recorder.ts';
import { num, printCapacity, table } from './report.ts';
import { perSecond, round, type Stats, stats } from './stats.ts';

/** Issue 10's goal for one chat watched by 500 sockets. */
export const BROADCAST_GOAL_PER_SECOND = 5_000;

/** What the Recorder saw of the measured messages, and the integrity counters of the whole run. */
export interface BroadcastFigures {
  readonly messages: { readonly measured: number; readonly acked: number; readonly failed: number };
  readonly deliveries: {
    readonly measuredExpected: number;
    readonly measuredReceived: number;
    /** From here on, warm-up included. */
    readonly lost: number;
    readonly duplicates: number;
    readonly unknown: number;
    /** Deliveries whose seq is below one the same socket already got. */
    readonly outOfOrder: number;
  };
  /** The chat's seqs, from acks and deliveries: they must be 1..n with no gap and no seq named twice. */
  readonly seq: {
    readonly first: number;
    readonly last: number;
    readonly gaps: number;
    readonly conflicts: number;
  };
  /** Every measured (message, socket) pair: send → that socket's `message.created`. */
  readonly deliveryMs: Stats;
  /** Per measured message delivered to every socket: send → its delivery to the last one. */
  readonly lastSocketMs: Stats;
  /** Per measured message delivered to every socket: first socket → last socket. */
  readonly spreadMs: Stats;
  readonly ackMs: Stats;
  readonly throughput: Throughput;
}

export interface BroadcastResult extends BroadcastFigures {
  readonly subscribers: number;
  readonly audience: Audience;
  /** The handlers' FANOUT_CONCURRENCY, as this process set it (`default`: not set). */
  readonly fanoutConcurrency: string;
  readonly setupMs: { readonly chat: number; readonly connect: number; readonly subscribe: number };
  readonly otherEnvelopes: Record<string, number>;
  /** From the first measured send to the last delivery (every process of the local cloud). */
  readonly cpu: CpuUse & { readonly nodeMsPerThousandDeliveries: number };
  readonly capacity?: CapacityReport;
}

/** The figures of one chat's broadcast to `subscribers` sockets, from what `recorder` saw. */
export const broadcastFigures = (
  recorder: Recorder,
  chatId: string,
  subscribers: number,
  offeredMessagesPerSecond?: number,
): BroadcastFigures => {
  const measured = [...recorder.sent.values()].filter((message) => message.measured);
  const acked = measured.filter((message) => message.ackAt !== undefined && !message.failure);
  const everywhere = acked.filter((message) => message.receivers.size === subscribers);
  const seqs = [...(recorder.seqs.get(chatId)?.keys() ?? [])];
  const first = seqs.length > 0 ? Math.min(...seqs) : 0;
  const last = seqs.length > 0 ? Math.max(...seqs) : 0;
  const windowMs = Number.isFinite(recorder.firstSendAt)
    ? Math.max(recorder.lastDeliveryAt, recorder.lastAckAt) - recorder.firstSendAt
    : 0;
  const deliveries = recorder.latencies.length;
  return {
    messages: { measured: measured.length, acked: acked.length, failed: measured.length - acked.length },
    deliveries: {
      measuredExpected: acked.length * subscribers,
      measuredReceived: deliveries,
      lost: recorder.lost(),
      duplicates: recorder.duplicates,
      unknown: recorder.unknown,
      outOfOrder: recorder.outOfOrder,
    },
    seq: {
      first,
      last,
      gaps: seqs.length > 0 ? last - first + 1 - seqs.length : 0,
      conflicts: recorder.seqConflicts,
    },
    deliveryMs: stats(recorder.latencies),
    lastSocketMs: stats(everywhere.map((message) => (message.lastDeliveryAt ?? 0) - message.sentAt)),
    spreadMs: stats(
      everywhere.map((message) => (message.lastDeliveryAt ?? 0) - (message.firstDeliveryAt ?? 0)),
    ),
    ackMs: stats(recorder.ackLatencies),
    throughput: {
      windowMs: round(windowMs, 1),
      sendSpanMs: round(Math.max(0, recorder.lastSendAt - recorder.firstSendAt), 1),
      messagesPerSecond: perSecond(acked.length, windowMs),
      deliveriesPerSecond: perSecond(deliveries, windowMs),
      ...(offeredMessagesPerSecond !== undefined ? { offeredMessagesPerSecond } : {}),
    },
  };
};

/** What breaks integrity (empty: every socket got every message exactly once, in seq order, seqs 1..n). */
export const broadcastFailures = (figures: BroadcastFigures): string[] => {
  const { deliveries, seq, messages } = figures;
  const failures: [number | boolean, string][] = [
    [deliveries.lost, `${deliveries.lost} lost deliveries`],
    [deliveries.duplicates, `${deliveries.duplicates} duplicate deliveries`],
    [deliveries.unknown, `${deliveries.unknown} unmatched deliveries`],
    [deliveries.outOfOrder, `${deliveries.outOfOrder} out-of-order deliveries`],
    [messages.failed, `${messages.failed} failed sends`],
    [seq.first !== 1, `seqs start at ${seq.first}, not 1`],
    [seq.gaps, `${seq.gaps} seq gaps`],
    [seq.conflicts, `${seq.conflicts} seqs named for two messages`],
  ];
  return failures.flatMap(([count, failure]) => (count ? [failure] : []));
};

export interface BroadcastGoal {
  readonly deliveriesPerSecond: number;
  readonly goal: number;
  readonly held: boolean;
}

export const broadcastGoal = (figures: BroadcastFigures): BroadcastGoal => ({
  deliveriesPerSecond: figures.throughput.deliveriesPerSecond,
  goal: BROADCAST_GOAL_PER_SECOND,
  held: figures.throughput.deliveriesPerSecond >= BROADCAST_GOAL_PER_SECOND,
});

/** The run's description, printed before it starts. */
export const broadcastTitle = (options: Options): string => {
  const { subscribers, audience, messages, intervalMs } = options.broadcast;
  return (
    `serverless-chat bench, broadcast mode: ${subscribers} ${audience} subscribed to one chat, ${messages} ` +
    `messages from one sender (${intervalMs > 0 ? `one every ${intervalMs} ms` : 'closed loop'}), ` +
    `warm-up ${options.warmup}, text ${options.textBytes} B`
  );
};

/** The verdict lines: integrity, and the deliveries/s goal. */
export const broadcastVerdicts = (result: BroadcastResult): string[] => {
  const failures = broadcastFailures(result);
  const goal = broadcastGoal(result);
  return [
    `broadcast integrity: ${failures.length === 0 ? 'OK (every socket got every message once, in seq order, seqs 1..n)' : `FAILED: ${failures.join(', ')}`}`,
    `broadcast goal ≥ ${num(goal.goal)} deliveries/s: ${goal.held ? 'met' : 'MISSED'} (${num(goal.deliveriesPerSecond)}/s` +
      `${goal.held ? '' : '; docs/operations.md, "Fan-out at scale", says why on one local machine'})`,
  ];
};

export const printBroadcast = (result: BroadcastResult): void => {
  const row = (name: string, s: Stats) => [name, num(s.p50), num(s.p95), num(s.p99), num(s.max)];
  const { throughput, deliveries, seq, cpu, messages } = result;
  console.log(
    `\n== broadcast: ${result.subscribers} ${result.audience} subscribed to one chat, ` +
      `${messages.acked} of ${messages.measured} messages acked, ${deliveries.measuredReceived} of ` +
      `${deliveries.measuredExpected} deliveries (FANOUT_CONCURRENCY ${result.fanoutConcurrency})\n`,
  );
  console.log(
    table(
      ['ms', 'p50', 'p95', 'p99', 'max'],
      [
        row('send → each socket', result.deliveryMs),
        row('send → last socket', result.lastSocketMs),
        row('first → last socket', result.spreadMs),
        row('ack', result.ackMs),
      ],
    ),
  );
  console.log(
    `\ndeliveries/s ${num(throughput.deliveriesPerSecond)} (window ${num(throughput.windowMs)} ms), ` +
      `messages/s ${num(throughput.messagesPerSecond)}` +
      (throughput.offeredMessagesPerSecond !== undefined
        ? ` (offered ${num(throughput.offeredMessagesPerSecond)})`
        : '') +
      `, sends took ${num(throughput.sendSpanMs)} ms`,
  );
  console.log(
    `checks: lost ${deliveries.lost}, duplicates ${deliveries.duplicates}, unmatched ${deliveries.unknown}, ` +
      `out-of-order ${deliveries.outOfOrder}, seqs ${seq.first}..${seq.last} with ${seq.gaps} gaps and ` +
      `${seq.conflicts} conflicts, failed sends ${messages.failed}`,
  );
  console.log(
    `cpu over ${num(cpu.wallMs)} ms: node ${num(cpu.nodeMs)} ms (${num(cpu.nodeMsPerThousandDeliveries)} per ` +
      `1,000 deliveries), DynamoDB Local ${cpu.dynamoDbLocalMs !== undefined ? num(cpu.dynamoDbLocalMs) : '–'} ms; ` +
      `load average ${cpu.loadAverage1m.before} → ${cpu.loadAverage1m.after}`,
  );
  const others = Object.entries(result.otherEnvelopes);
  console.log(
    `setup: chat ${num(result.setupMs.chat / 1000)} s, sockets ${num(result.setupMs.connect / 1000)} s, ` +
      `subscriptions ${num(result.setupMs.subscribe / 1000)} s` +
      (others.length > 0 ? `; other frames: ${others.map(([type, n]) => `${type} ×${n}`).join(', ')}` : ''),
  );
  if (result.capacity) printCapacity(result.capacity, 'cloud, broadcast');
};
