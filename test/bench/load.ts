/**
 * One run of the `open`, `light` or `closed` load against one system: N clients in M chats subscribe,
 * send `warmup` unmeasured messages, then K measured ones in the mode's shape; every (message, receiving
 * client) pair is timed, and the DynamoDB capacity of the measured window is read from the meter.
 */
import { mapLimit } from '../../shared/domain/realtime.ts';
import type { CapacityMeter } from './capacity.ts';
import { type CapacityReport, capacityReport } from './capacity-report.ts';
import { BenchClient } from './client.ts';
import type { CostMeters } from './cost-meters.ts';
import { type CostResult, costResult } from './cost-report.ts';
import { type CpuUse, cpuWindow } from './cpu.ts';
import { type LoadMode, type Options, pace, type TargetName } from './options.ts';
import { Recorder } from './recorder.ts';
import { perSecond, round, type Stats, stats } from './stats.ts';
import type { Target } from './targets.ts';
import { now, prng, sleep } from './util.ts';

/** Throughput of a measured window: from the first measured send to its last delivery (or ack). */
export interface Throughput {
  readonly windowMs: number;
  readonly sendSpanMs: number;
  readonly messagesPerSecond: number;
  readonly deliveriesPerSecond: number;
  readonly offeredMessagesPerSecond?: number;
}

export interface RunResult {
  readonly target: TargetName;
  readonly mode: LoadMode;
  readonly setupMs: number;
  readonly messages: { readonly measured: number; readonly acked: number; readonly failed: number };
  readonly deliveries: {
    /** Of the measured messages (the warm-up's are in expected/received, lost and duplicates). */
    readonly measuredExpected: number;
    readonly measuredReceived: number;
    readonly expected: number;
    readonly received: number;
    readonly lost: number;
    readonly duplicates: number;
    /** Messages pushed back to the socket that sent them (never, by the protocol). */
    readonly echoes: number;
    readonly unknown: number;
    readonly outOfOrder: number;
  };
  readonly seq: {
    readonly gaps: number;
    readonly conflicts: number;
    /** Consecutive seqs whose createdAt goes backwards (seq order and createdAt order disagree). */
    readonly createdAtInversions: number;
    readonly perChat: readonly { readonly chatId: string; readonly maxSeq: number; readonly gaps: number }[];
  };
  readonly latencyMs: Stats;
  readonly ackLatencyMs: Stats;
  readonly throughput: Throughput;
  readonly otherEnvelopes: Record<string, number>;
  /** CPU time spent during the measured window (send of the first message → everything settled). */
  readonly cpu: CpuUse & { readonly perMessageMs: number };
  readonly capacity?: CapacityReport;
  readonly setupCapacity?: CapacityReport;
  /** What AWS would bill for the measured window, per 1M messages (the cloud only). */
  readonly cost?: CostResult;
}

export const runOnce = async (
  target: Target,
  mode: LoadMode,
  options: Options,
  runTag: string,
  meter: CapacityMeter,
  costMeters?: CostMeters,
): Promise<RunResult> => {
  const tag = `${runTag}-${mode[0]}`;
  const members: number[][] = Array.from({ length: options.chats }, () => []);
  for (let client = 0; client < options.clients; client++) members[client % options.chats]?.push(client);
  const random = prng(options.seed + ['open', 'light', 'closed'].indexOf(mode) * 7919);
  const paced = pace(mode, options);
  const text = (client: number, k: number) => `bench ${client}/${k} `.padEnd(options.textBytes, 'x');
  const requestTimeoutMs = Math.min(30_000, options.phaseTimeoutMs);

  const setupStarted = now();
  const setupMark = meter.mark();
  const prepared = await target.prepare(tag, members);
  const sizeOf = new Map(prepared.chatIds.map((chatId, chat) => [chatId, members[chat]?.length ?? 0]));
  // A message goes to the chat's other members: the sender's own copy is its ack.
  const recorder = new Recorder((chatId) => Math.max(0, (sizeOf.get(chatId) ?? 0) - 1));
  const clients: BenchClient[] = [];
  try {
    await mapLimit(members.flat(), 8, async (client) => {
      const chatId = prepared.chatIds[client % options.chats] ?? '';
      const socket = await BenchClient.open(await prepared.url(client), client, chatId, recorder);
      clients.push(socket);
      await socket.request({ action: 'subscribe', chatId }, requestTimeoutMs);
    });
    clients.sort((a, b) => a.index - b.index);
    await target.settle();

    const sendOne = (client: BenchClient, clientMessageId: string, k: number): Promise<void> =>
      recorder.sendMessage(client, clientMessageId, text(client.index, k), requestTimeoutMs);

    // Warm-up: unmeasured, closed loop; then wait for its deliveries and for the system to settle.
    for (let k = 0; k < options.warmup; k++) {
      await Promise.all(clients.map((client) => sendOne(client, `w${tag}-c${client.index}-m${k}`, k)));
    }
    await recorder.drained(now() + options.drainMs);
    await target.settle();
    const setupMs = now() - setupStarted;
    const setupCapacity = target.name === 'cloud' ? meter.since(setupMark) : undefined;

    // Measured load.
    const loadMark = meter.mark();
    const costMark = costMeters?.mark();
    const cpu = cpuWindow(target.dynamoPid);
    recorder.measuring = true;
    const started = now();
    const deadline = started + options.phaseTimeoutMs;
    const inFlight: Promise<void>[] = [];
    await Promise.all(
      clients.map(async (client) => {
        let next = started + random() * (paced?.intervalMs ?? 0);
        for (let k = 0; k < options.messages && now() < deadline; k++) {
          const clientMessageId = `${tag}-c${client.index}-m${k}`;
          if (paced) {
            await sleep(next - now());
            inFlight.push(sendOne(client, clientMessageId, k));
            next += paced.intervalMs + (random() * 2 - 1) * paced.jitterMs;
          } else {
            await sendOne(client, clientMessageId, k);
            if (options.thinkMs > 0) await sleep(options.thinkMs);
          }
        }
      }),
    );
    await Promise.all(inFlight);
    await recorder.drained(Math.max(now(), recorder.lastAckAt) + options.drainMs);
    await target.settle();
    const capacityRows = target.name === 'cloud' ? meter.since(loadMark) : undefined;
    const costWindow = costMark && target.name === 'cloud' ? costMeters?.since(costMark) : undefined;
    const cpuUse = cpu.stop();

    // Results.
    const measured = [...recorder.sent.values()].filter((message) => message.measured);
    const acked = measured.filter((message) => message.ackAt !== undefined && !message.failure);
    const expected = [...recorder.sent.values()]
      .filter((message) => !message.failure)
      .reduce((sum, message) => sum + message.expected, 0);
    const perChat = prepared.chatIds.map((chatId) => {
      const seqs = recorder.seqs.get(chatId) ?? new Map<number, string>();
      const maxSeq = Math.max(0, ...seqs.keys());
      return { chatId, maxSeq, gaps: maxSeq - seqs.size };
    });
    const measuredDeliveries = recorder.latencies.length;
    const windowMs = Math.max(recorder.lastDeliveryAt, recorder.lastAckAt) - recorder.firstSendAt;
    return {
      target: target.name,
      mode,
      setupMs: round(setupMs, 0),
      messages: { measured: measured.length, acked: acked.length, failed: measured.length - acked.length },
      deliveries: {
        measuredExpected: measured
          .filter((message) => !message.failure)
          .reduce((sum, m) => sum + m.expected, 0),
        measuredReceived: recorder.latencies.length,
        expected,
        received: recorder.received,
        lost: recorder.lost(),
        duplicates: recorder.duplicates,
        echoes: recorder.echoes,
        unknown: recorder.unknown,
        outOfOrder: recorder.outOfOrder,
      },
      seq: {
        gaps: perChat.reduce((sum, chat) => sum + chat.gaps, 0),
        conflicts: recorder.seqConflicts,
        createdAtInversions: recorder.createdAtInversions(),
        perChat,
      },
      latencyMs: stats(recorder.latencies),
      ackLatencyMs: stats(recorder.ackLatencies),
      throughput: {
        windowMs: round(windowMs, 1),
        sendSpanMs: round(recorder.lastSendAt - recorder.firstSendAt, 1),
        messagesPerSecond: perSecond(acked.length, windowMs),
        deliveriesPerSecond: perSecond(measuredDeliveries, windowMs),
        ...(paced ? { offeredMessagesPerSecond: round((options.clients * 1000) / paced.intervalMs, 1) } : {}),
      },
      otherEnvelopes: Object.fromEntries(recorder.others),
      cpu: {
        ...cpuUse,
        perMessageMs: round((cpuUse.nodeMs + (cpuUse.dynamoDbLocalMs ?? 0)) / Math.max(1, acked.length), 2),
      },
      ...(capacityRows ? { capacity: capacityReport(capacityRows, acked.length) } : {}),
      ...(capacityRows && costWindow
        ? {
            cost: costResult(
              costWindow,
              capacityRows,
              acked.length,
              { min: Math.min(...sizeOf.values()), max: Math.max(...sizeOf.values()) },
              recorder.echoes,
            ),
          }
        : {}),
      ...(setupCapacity ? { setupCapacity: capacityReport(setupCapacity, options.clients) } : {}),
    };
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await target.settle().catch(() => {});
  }
};
