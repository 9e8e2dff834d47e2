/**
 * The `reactions` mode (`npm run bench:reactions`, `--modes reactions`): what one reaction costs. ONE chat
 * of two participants, both subscribed; the first sends one message, the second reacts to it R times
 * (`--reactions`) in a closed loop over its socket (`react` frames, adding and taking back four emoji in
 * turn, so every click changes something). The measured window's calls go through the cost model of the
 * other modes, with one reaction as its unit: $ per 1M reactions by service, DynamoDB units per reaction
 * (billed by AWS's rules), frames and invocations per reaction; and whether each change reached the
 * other participant's socket. The cloud only.
 */
import type { CapacityMeter } from './capacity.ts';
import { type CapacityReport, capacityReport } from './capacity-report.ts';
import { BenchClient, type ClientSink } from './client.ts';
import type { CostMeters } from './cost-meters.ts';
import { type CostResult, costResult, printCost } from './cost-report.ts';
import type { Options } from './options.ts';
import { round } from './stats.ts';
import type { Target } from './targets.ts';
import { now, progress, sleep } from './util.ts';

const EMOJI = ['👍', '❤️', '😂', '🎉'] as const;

export interface ReactionsResult {
  readonly reactions: number;
  readonly failed: number;
  /** `reaction` envelopes the other participant's socket received (one per change expected). */
  readonly delivered: number;
  readonly seconds: number;
  readonly cost?: Omit<CostResult, 'goal'>;
  readonly capacity?: CapacityReport;
}

/** Counts the frames of one socket by type. */
const countingSink = (): ClientSink & { readonly counts: Map<string, number> } => {
  const counts = new Map<string, number>();
  const count = (type: string) => counts.set(type, (counts.get(type) ?? 0) + 1);
  return { counts, delivery: (_client, envelope) => count(envelope.type), other: count };
};

export const runReactions = async (
  target: Target,
  options: Options,
  runTag: string,
  meter: CapacityMeter,
  costMeters: CostMeters,
): Promise<ReactionsResult> => {
  const reactions = options.reactions;
  const timeoutMs = Math.min(30_000, options.phaseTimeoutMs);
  const prepared = await target.prepare(`${runTag}-x`, [[0, 1]]);
  const chatId = prepared.chatIds[0] ?? '';
  const author = countingSink();
  const reactor = countingSink();
  const [first, second] = await Promise.all([
    BenchClient.open(await prepared.url(0), 0, chatId, author),
    BenchClient.open(await prepared.url(1), 1, chatId, reactor),
  ]);
  try {
    await Promise.all(
      [first, second].map((client) => client.request({ action: 'subscribe', chatId }, timeoutMs)),
    );
    const sent = await first.request(
      { action: 'sendMessage', chatId, clientMessageId: `${runTag}-x-m`, text: 'react to me' },
      timeoutMs,
    );
    const messageId = String((sent.data.message as { messageId?: string } | undefined)?.messageId ?? '');
    await target.settle();
    progress(`reactions: ${reactions} reactions to one message…`);
    const capacityMark = meter.mark();
    const costMark = costMeters.mark();
    const before = author.counts.get('reaction') ?? 0;
    const started = now();
    let failed = 0;
    for (let k = 0; k < reactions; k++) {
      const emoji = EMOJI[k % EMOJI.length];
      // Four adds, then the same four taken back: every click changes the record.
      const remove = Math.floor(k / EMOJI.length) % 2 === 1;
      await second
        .request({ action: 'react', chatId, messageId, emoji, remove }, timeoutMs)
        .catch(() => failed++);
    }
    const seconds = (now() - started) / 1000;
    const deadline = now() + options.drainMs;
    while ((author.counts.get('reaction') ?? 0) - before < reactions - failed && now() < deadline) {
      await target.settle();
      await sleep(20);
    }
    await target.settle();
    const rows = meter.since(capacityMark);
    const window = costMeters.since(costMark);
    const { goal: _none, ...cost } = costResult(window, rows, reactions, { min: 2, max: 2 }, 0);
    return {
      reactions,
      failed,
      delivered: (author.counts.get('reaction') ?? 0) - before,
      seconds: round(seconds, 2),
      cost,
      capacity: capacityReport(rows, reactions),
    };
  } finally {
    await Promise.all([first.close(), second.close()]);
  }
};

export const printReactions = (result: ReactionsResult): void => {
  console.log(
    `\nReactions: ${result.reactions} reactions (${result.failed} failed) in ${result.seconds} s; ` +
      `${result.delivered} reaction envelopes reached the other participant's socket`,
  );
  if (result.capacity) {
    const units = result.capacity.perMessage.billed;
    console.log(
      `DynamoDB per reaction (billed by AWS's rules): ${units.wru} WRU, ${units.rru} RRU, ${units.gsiWru} GSI WRU`,
    );
  }
  if (result.cost) printCost(result.cost, 'reactions: one "message" here is one reaction');
};

/** A verdict line: every reaction answered and every change delivered once to the other socket. */
export const reactionsVerdict = (result: ReactionsResult): string =>
  result.failed === 0 && result.delivered === result.reactions
    ? 'reactions: OK (every reaction acked, each change delivered to the other participant)'
    : `reactions: FAILED (${result.failed} failed, ${result.delivered} of ${result.reactions} delivered)`;
