/** The hot mode's report: spread and hot side by side, the goals and whether they hold. */
import type { HotShapes, ShapeResult } from './hot.ts';
import type { Options } from './options.ts';
import { num, printCapacity, table } from './report.ts';

export interface Goal {
  readonly goal: string;
  readonly measured: string;
  readonly held: boolean;
  /** An integrity goal: missing it always fails the run; the others only with --strict. */
  readonly integrity: boolean;
}

const both = (shapes: HotShapes, pick: (shape: ShapeResult) => number): string =>
  `hot ${pick(shapes.hot)}, spread ${pick(shapes.spread)}`;
const sumOf = (shapes: HotShapes, pick: (chat: ShapeResult['integrity']['chats'][number]) => number) =>
  [shapes.spread, shapes.hot].reduce(
    (sum, shape) => sum + shape.integrity.chats.reduce((inner, chat) => inner + pick(chat), 0),
    0,
  );
/** Whether the p99 falls on a client time-out: then it is only a lower bound. */
const censored = (shape: ShapeResult, options: Options): boolean =>
  shape.clientTimeouts > 0 && shape.ackOrTimeoutMs.p99 >= options.hot.ackTimeoutMs;
const p99Text = (shape: ShapeResult, options: Options): string =>
  `${censored(shape, options) ? '≥' : ''}${num(shape.ackOrTimeoutMs.p99)}`;

export const hotGoals = (shapes: HotShapes, options: Options): Goal[] => {
  const { spread, hot } = shapes;
  const throughput = spread.storedPerSecond > 0 ? hot.storedPerSecond / spread.storedPerSecond : 0;
  const p99 = spread.ackOrTimeoutMs.p99 > 0 ? hot.ackOrTimeoutMs.p99 / spread.ackOrTimeoutMs.p99 : Infinity;
  const gaps = sumOf(shapes, (chat) => chat.gaps + chat.repeatedSeqs);
  const copies = sumOf(shapes, (chat) => chat.duplicateClientMessageIds);
  const unacked = sumOf(shapes, (chat) => chat.ackedNotStored + chat.unknown);
  return [
    {
      goal: 'hot stored msg/s ≥ 80 % of spread',
      measured: `${num(hot.storedPerSecond)} vs ${num(spread.storedPerSecond)} msg/s (${num(throughput * 100)} %)`,
      held: throughput >= 0.8,
      integrity: false,
    },
    {
      goal: 'hot ack p99 ≤ 2 × spread ack p99',
      measured:
        `${p99Text(hot, options)} vs ${p99Text(spread, options)} ms (${num(p99)}×` +
        `${censored(hot, options) ? ', a time-out: counts as missed' : ''})`,
      held: p99 <= 2 && !censored(hot, options),
      integrity: false,
    },
    {
      goal: '0 errors',
      measured: both(shapes, (shape) => shape.errorCount),
      held: hot.errorCount + spread.errorCount === 0,
      integrity: false,
    },
    {
      goal: `0 client time-outs (no answer within ${num(options.hot.ackTimeoutMs / 1000)} s)`,
      measured: both(shapes, (shape) => shape.clientTimeouts),
      held: hot.clientTimeouts + spread.clientTimeouts === 0,
      integrity: false,
    },
    {
      goal: 'stored seq exactly 1..n (n ≥ lastSeq), every chat',
      measured: `${gaps} missing or repeated seqs`,
      held: gaps === 0,
      integrity: true,
    },
    {
      goal: 'one message per clientMessageId',
      measured: `${copies} extra copies`,
      held: copies === 0,
      integrity: true,
    },
    {
      goal: 'every ack names a stored message, nothing unknown',
      measured: `${unacked} acked-not-stored or unknown`,
      held: unacked === 0,
      integrity: true,
    },
  ];
};

/** DynamoDB calls per stored message, and of them the failed ones (e.g. a lost race on a condition). */
const callsPerStored = (shape: ShapeResult): string => {
  const rows = shape.capacity?.rows ?? [];
  const per = (count: number) => num(count / Math.max(1, shape.stored));
  return `${per(rows.reduce((sum, row) => sum + row.calls, 0))} / ${per(rows.reduce((sum, row) => sum + row.failed, 0))}`;
};

export const printHot = (shapes: HotShapes, goals: readonly Goal[], options: Options): void => {
  const { spread, hot } = shapes;
  const { senders, via, durationMs, messages, ackTimeoutMs } = options.hot;
  const timeout = `${num(ackTimeoutMs / 1000)} s`;
  const ratio = (a: number, b: number) => (b > 0 ? `${num(a / b)}×` : '');
  const row = (label: string, pick: (shape: ShapeResult) => number | string, ratioOf?: boolean) => {
    const [a, b] = [pick(spread), pick(hot)];
    return [
      label,
      typeof a === 'number' ? num(a) : a,
      typeof b === 'number' ? num(b) : b,
      ratioOf && typeof a === 'number' && typeof b === 'number' ? ratio(b, a) : '',
    ];
  };
  const integrity =
    (pick: (chat: ShapeResult['integrity']['chats'][number]) => number) => (shape: ShapeResult) =>
      shape.integrity.chats.reduce((sum, chat) => sum + pick(chat), 0);
  console.log(
    `\n== hot chat: ${senders} closed-loop senders over ${via}, all in one chat (hot) vs one chat each ` +
      `(spread); ${messages > 0 ? `${messages} messages each` : `${num(durationMs / 1000)} s each`}, ` +
      `client time-out ${timeout}\n`,
  );
  const rows = [
    row('chats', (s) => String(s.chats)),
    row('messages sent', (s) => String(s.sent)),
    row(`acked within ${timeout}`, (s) => String(s.acked)),
    row('stored msg/s', (s) => s.storedPerSecond, true),
    row('acked msg/s', (s) => s.ackedPerSecond, true),
    row('ack p50 ms (acked in time)', (s) => s.ackMs.p50, true),
    row('ack p99 ms (acked in time)', (s) => s.ackMs.p99, true),
    row(`ack p99 ms (a time-out counted as ${timeout})`, (s) => p99Text(s, options)),
    row('errors', (s) => String(s.errorCount)),
    row(`client time-outs (no answer within ${timeout})`, (s) => String(s.clientTimeouts)),
    row('  of them acked later / stored', (s) => `${s.lateAcks} / ${s.timeoutsStored}`),
    row(
      'handler time-outs / other failures (log)',
      (s) => `${s.handlerLog.timeouts} / ${s.handlerLog.errors}`,
    ),
    row('measured messages stored', (s) => String(s.stored)),
    row('DynamoDB calls / failed calls per stored message', callsPerStored),
    row('window ms (first send → last answer)', (s) => s.windowMs),
    row(
      'seq gaps / repeats (all chats)',
      (s) => `${integrity((c) => c.gaps)(s)} / ${integrity((c) => c.repeatedSeqs)(s)}`,
    ),
    row('chats read back again (a hole, waited for)', (s) => String(s.rereads)),
    row('extra copies of a clientMessageId', (s) => String(integrity((c) => c.duplicateClientMessageIds)(s))),
    row('acked but not stored under that seq', (s) => String(integrity((c) => c.ackedNotStored)(s))),
    row('stored but not sent by the bench', (s) => String(integrity((c) => c.unknown)(s))),
    row('seqs filled with a void', (s) => String(integrity((c) => c.voids)(s))),
    row('replayed acks (created: false)', (s) => String(s.replays)),
    row(
      'load average 1 min (before → after)',
      (s) => `${num(s.loadAverage1m.before)} → ${num(s.loadAverage1m.after)}`,
    ),
    row('setup + warm-up ms', (s) => s.setupMs),
  ];
  console.log(table(['', 'spread', 'hot', 'hot/spread'], rows));
  for (const shape of [spread, hot]) {
    const errors = Object.entries(shape.errors);
    if (errors.length > 0)
      console.log(`${shape.shape}: errors: ${errors.map(([code, count]) => `${code} ×${count}`).join(', ')}`);
    const others = Object.entries(shape.otherFrames);
    if (others.length > 0)
      console.log(
        `${shape.shape}: other frames: ${others.map(([type, count]) => `${type} ×${count}`).join(', ')}`,
      );
    const logged = Object.entries(shape.handlerLog.byMessage);
    if (logged.length > 0)
      console.log(
        `${shape.shape}: handler log: ${logged.map(([what, count]) => `${what} ×${count}`).join(', ')}`,
      );
    if (!shape.settled) console.log(`${shape.shape}: the cloud was not idle 30 s after the last answer`);
    for (const chat of shape.integrity.chats.filter((c) => !c.ok)) {
      console.log(
        `${shape.shape}: chat ${chat.chatId} FAILED: ${chat.stored} stored, seq 1..${chat.maxSeq}, ` +
          `lastSeq ${chat.lastSeq ?? '?'}, ${chat.gaps} gaps, ${chat.repeatedSeqs} repeats, ` +
          `${chat.duplicateClientMessageIds} extra copies, ${chat.ackedNotStored} acked not stored, ${chat.unknown} unknown`,
      );
    }
  }
  for (const shape of [spread, hot])
    if (shape.capacity) printCapacity(shape.capacity, `${shape.shape}, stored`);
  console.log(`\ngoals of the hot chat (hot against spread):\n`);
  console.log(
    table(
      ['goal', 'measured', ''],
      goals.map((goal) => [goal.goal, goal.measured, goal.held ? 'holds' : 'MISSED']),
      2,
    ),
  );
  const missed = goals.filter((goal) => !goal.held);
  console.log(
    `hot goals: ${goals.length - missed.length} of ${goals.length} hold` +
      (missed.some((goal) => goal.integrity) ? '; INTEGRITY FAILED (exit 1)' : '; integrity OK') +
      (missed.some((goal) => !goal.integrity)
        ? options.strict
          ? '; --strict: a missed goal fails the run'
          : ' (a missed goal fails the run only with --strict)'
        : ''),
  );
};
