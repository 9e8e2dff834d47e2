/** The report of the `open`, `light` and `closed` modes: one table per mode, relay and cloud side by side. */
import type { CapacityReport } from './capacity-report.ts';
import type { RunResult } from './load.ts';
import { type LoadMode, type Options, pace } from './options.ts';
import type { IdleCpu } from './session.ts';
import type { AppendEstimate } from './targets.ts';

export const num = (value: number): string => {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs === 0) return '0';
  if (abs < 10) return value.toFixed(2);
  if (abs < 100) return value.toFixed(1);
  return value.toFixed(0);
};

/** A count or amount in a cost table: whole from 100 up, three significant digits below. */
export const quantity = (value: number): string =>
  value === 0 ? '0' : value >= 100 ? value.toFixed(0) : value.toPrecision(3);

export const table = (
  header: readonly string[],
  rows: readonly (readonly string[])[],
  leftColumns = 1,
): string => {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) =>
        column < leftColumns ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
};

export interface Ratios {
  readonly latencyP50: number;
  readonly latencyP95: number;
  readonly latencyP99: number;
  readonly latencyMax: number;
  readonly ackP50: number;
  readonly ackP95: number;
  readonly messagesPerSecond: number;
  readonly deliveriesPerSecond: number;
}

const ratio = (a: number, b: number) => (b > 0 ? Number((a / b).toPrecision(3)) : Number.NaN);
export const ratiosOf = (cloud: RunResult, relay: RunResult): Ratios => ({
  latencyP50: ratio(cloud.latencyMs.p50, relay.latencyMs.p50),
  latencyP95: ratio(cloud.latencyMs.p95, relay.latencyMs.p95),
  latencyP99: ratio(cloud.latencyMs.p99, relay.latencyMs.p99),
  latencyMax: ratio(cloud.latencyMs.max, relay.latencyMs.max),
  ackP50: ratio(cloud.ackLatencyMs.p50, relay.ackLatencyMs.p50),
  ackP95: ratio(cloud.ackLatencyMs.p95, relay.ackLatencyMs.p95),
  messagesPerSecond: ratio(cloud.throughput.messagesPerSecond, relay.throughput.messagesPerSecond),
  deliveriesPerSecond: ratio(cloud.throughput.deliveriesPerSecond, relay.throughput.deliveriesPerSecond),
});

export const modeTitle = (mode: LoadMode, options: Options): string => {
  const paced = pace(mode, options);
  return paced
    ? `${mode === 'light' ? 'light ' : ''}open loop: each client sends every ${paced.intervalMs}±${paced.jitterMs} ms ` +
        `(offered ${num((options.clients * 1000) / paced.intervalMs)} msg/s)`
    : `closed loop: each client sends its next message as soon as the previous is acked${
        options.thinkMs > 0 ? ` + ${options.thinkMs} ms` : ''
      }`;
};

/** The capacity table of one measured window, per message, and every failed call by name. */
export const printCapacity = (capacity: CapacityReport, label = 'cloud'): void => {
  console.log(
    `\nDynamoDB capacity per message (${label}, ${capacity.messages} messages; every call made with ` +
      `ReturnConsumedCapacity; failed calls report none). AWS RRU / WRU: the request units AWS bills for ` +
      `the same calls, failed ones included, from the items' sizes, DynamoDB Local's figure or assumed ` +
      `('from', test/bench/cost-dynamodb.ts):\n`,
  );
  const gsi = (rcu: number, wcu: number) => (rcu + wcu > 0 ? `${num(rcu + wcu)}` : '');
  const lines = capacity.rows.map((line) => [
    line.operation,
    line.target,
    num(line.perMessage.calls),
    num(line.perMessage.rcu),
    num(line.perMessage.wcu),
    gsi(line.perMessage.gsiRcu, line.perMessage.gsiWcu),
    line.failed > 0 ? num(line.failed / Math.max(1, capacity.messages)) : '',
    num(line.perMessage.billed.rru),
    num(line.perMessage.billed.wru),
    Object.keys(line.billedBasis).join(','),
    num(line.callMs.p50),
    num(line.callMs.p95),
  ]);
  lines.push([
    'total',
    '',
    num(capacity.perMessage.calls),
    num(capacity.perMessage.rcu),
    num(capacity.perMessage.wcu),
    gsi(capacity.perMessage.gsiRcu, capacity.perMessage.gsiWcu),
    '',
    num(capacity.perMessage.billed.rru),
    num(capacity.perMessage.billed.wru),
    '',
    '',
    '',
  ]);
  console.log(
    table(
      [
        'operation',
        'items',
        'calls/msg',
        'RCU/msg',
        'WCU/msg',
        'of it GSI',
        'failed/msg',
        'AWS RRU',
        'AWS WRU',
        'from',
        'ms p50',
        'ms p95',
      ],
      lines,
      2,
    ),
  );
  for (const line of capacity.rows) {
    for (const [name, count] of Object.entries(line.failures)) {
      console.log(`  failed: ${line.operation} ${line.target}: ${name} ×${count}`);
    }
    if (line.unreported > 0) {
      console.log(
        `  ${line.operation} ${line.target}: ${line.unreported} call(s) returned no ConsumedCapacity`,
      );
    }
  }
};

export const printMode = (mode: LoadMode, options: Options, results: readonly RunResult[]): void => {
  const relay = results.find((result) => result.target === 'relay');
  const cloud = results.find((result) => result.target === 'cloud');
  const columns = [relay, cloud].filter((result): result is RunResult => result !== undefined);
  const ratios = relay && cloud ? ratiosOf(cloud, relay) : undefined;
  const rx = (value: number | undefined) =>
    value === undefined || Number.isNaN(value) ? '' : `${num(value)}×`;
  const row = (label: string, pick: (result: RunResult) => string, ratioValue?: number): string[] => [
    label,
    ...columns.map(pick),
    ...(ratios ? [rx(ratioValue)] : []),
  ];
  const header = ['', ...columns.map((result) => result.target), ...(ratios ? ['cloud/relay'] : [])];
  const rows = [
    row('messages sent (acked)', (r) => `${r.messages.measured} (${r.messages.acked})`),
    row(
      'deliveries (expected)',
      (r) => `${r.deliveries.measuredReceived} (${r.deliveries.measuredExpected})`,
    ),
    row('latency p50 ms', (r) => num(r.latencyMs.p50), ratios?.latencyP50),
    row('latency p95 ms', (r) => num(r.latencyMs.p95), ratios?.latencyP95),
    row('latency p99 ms', (r) => num(r.latencyMs.p99), ratios?.latencyP99),
    row('latency max ms', (r) => num(r.latencyMs.max), ratios?.latencyMax),
    row('ack p50 ms', (r) => num(r.ackLatencyMs.p50), ratios?.ackP50),
    row('ack p95 ms', (r) => num(r.ackLatencyMs.p95), ratios?.ackP95),
    row('messages/s', (r) => num(r.throughput.messagesPerSecond), ratios?.messagesPerSecond),
    row('deliveries/s', (r) => num(r.throughput.deliveriesPerSecond), ratios?.deliveriesPerSecond),
    row('window ms (first send → last delivery)', (r) => num(r.throughput.windowMs)),
    row('lost deliveries (incl. warm-up)', (r) => String(r.deliveries.lost)),
    row('duplicate deliveries', (r) => String(r.deliveries.duplicates)),
    row('echoes to the sending socket', (r) => String(r.deliveries.echoes)),
    row('unmatched deliveries', (r) => String(r.deliveries.unknown)),
    row('out-of-order deliveries', (r) => String(r.deliveries.outOfOrder)),
    row('seq gaps (all chats)', (r) => String(r.seq.gaps)),
    row('seq conflicts', (r) => String(r.seq.conflicts)),
    row('createdAt going backwards as seq rises', (r) => String(r.seq.createdAtInversions)),
    row('failed sends', (r) => String(r.messages.failed)),
    row('CPU ms per message (node + DynamoDB Local)', (r) => num(r.cpu.perMessageMs)),
    row(
      '  node CPU s / DynamoDB Local CPU s',
      (r) =>
        `${num(r.cpu.nodeMs / 1000)} / ${r.cpu.dynamoDbLocalMs === undefined ? '–' : num(r.cpu.dynamoDbLocalMs / 1000)}`,
    ),
    row('  wall s (send → settled)', (r) => num(r.cpu.wallMs / 1000)),
    row(
      'load average 1 min (before → after)',
      (r) => `${num(r.cpu.loadAverage1m.before)} → ${num(r.cpu.loadAverage1m.after)}`,
    ),
    row('setup + warm-up ms', (r) => num(r.setupMs)),
  ];
  console.log(`\n== ${modeTitle(mode, options)}\n`);
  console.log(table(header, rows));
  for (const result of columns) {
    const gaps = result.seq.perChat.filter((chat) => chat.gaps > 0);
    if (gaps.length > 0) {
      console.log(
        `${result.target}: seq gaps: ${gaps.map((chat) => `${chat.chatId} ${chat.gaps}`).join(', ')}`,
      );
    }
    const offered = result.throughput.offeredMessagesPerSecond;
    if (offered !== undefined && result.throughput.messagesPerSecond < 0.9 * offered) {
      console.log(
        `${result.target}: SATURATED: it sustained ${num(result.throughput.messagesPerSecond)} of the ` +
          `${num(offered)} msg/s offered, so its latencies above are mostly time spent queueing` +
          (mode === 'light'
            ? ' (raise --light-interval)'
            : ' (the light mode shows latency at a rate it sustains)'),
      );
    }
    const others = Object.entries(result.otherEnvelopes);
    if (others.length > 0) {
      console.log(
        `${result.target}: other frames: ${others.map(([type, count]) => `${type} ×${count}`).join(', ')}`,
      );
    }
  }
  const capacity = cloud?.capacity;
  if (capacity) printCapacity(capacity);
  const setup = cloud?.setupCapacity;
  if (setup) {
    console.log(
      `\nsetup per client (token, chat, ticket, connect, subscribe, ${options.warmup} warm-up message(s)): ` +
        `${num(setup.perMessage.rcu)} RCU, ${num(setup.perMessage.wcu)} WCU, ${num(setup.perMessage.calls)} calls`,
    );
  }
};

/**
 * What AWS bills for one append (docs/data-model.md, "Sequence numbers"): three single-item writes, 1 write
 * request unit per started KB of each item (the reserve step rewrites the chat item, billed by the larger
 * of its sizes before and after, about the size read back), and the eventually consistent read of the
 * claim (half a read request unit per started 4 KB).
 */
export const appendUnits = (estimate: AppendEstimate): { readonly wru: number; readonly rru: number } => {
  const { chat, message, idempotency } = estimate.itemBytes;
  return {
    wru: [chat, message, idempotency].reduce((sum, bytes) => sum + Math.max(1, Math.ceil(bytes / 1024)), 0),
    rru: Math.max(1, Math.ceil(idempotency / 4096)) / 2,
  };
};

export const printAppendNote = (estimate: AppendEstimate): void => {
  const { chat, message, idempotency } = estimate.itemBytes;
  const units = appendUnits(estimate);
  console.log(
    `\nnote: one append reserves its seq on a chat item of ${chat} B, claims an idempotency record of ` +
      `${idempotency} B and places a message of ${message} B: three single-item writes, ${units.wru} WRU ` +
      `(1 per started KB of each item), after an eventually consistent read of the claim, ${units.rru} RRU.`,
  );
};

export const printIdleCpu = (idleCpu: IdleCpu): void => {
  console.log(
    `idle local cloud (no traffic, 3 s): node ${num(idleCpu.nodeMsPerSecond)} CPU ms/s, DynamoDB Local ` +
      `${idleCpu.dynamoDbLocalMsPerSecond === undefined ? '–' : num(idleCpu.dynamoDbLocalMsPerSecond)} CPU ms/s`,
  );
};
