/** The report of the `polling` mode: the polls, the three figures against their goals, the cost lines. */
import { SERVICES } from './cost.ts';
import { PRICE_REGION, PRICES_LOOKED_UP } from './cost-prices.ts';
import type { PollingResult } from './polling.ts';
import { POLLING_GOALS } from './polling-cost.ts';
import { num, quantity, table } from './report.ts';

const usd = (value: number): string => (value === 0 ? '0' : value.toPrecision(2));
const seconds = (ms: number): string => `${num(ms / 1000)} s`;
const counts = (record: Readonly<Record<string, number>>, suffix = ''): string =>
  Object.entries(record)
    .map(([key, count]) => `${key}${suffix} ×${count}`)
    .join(', ') || 'none';

/** Whether the run failed its integrity checks (lost, duplicated, reordered or skipped messages). */
export const pollingIntegrityOk = (result: PollingResult): boolean => result.delivery.ok && result.drained;

export const printPolling = (result: PollingResult, strict: boolean): void => {
  const { polls, invocations, delivery, cost } = result;
  const how =
    result.waitSeconds > 0
      ? `long polls of ${result.waitSeconds} s`
      : `short polls paced by nextPollMs: POLL_ACTIVE_MS ${result.pace.POLL_ACTIVE_MS}, POLL_IDLE_MS ${result.pace.POLL_IDLE_MS}`;
  console.log(
    `\n== polling: ${result.pollers} visitors polling their chats as the browser SDK does (${how}); ` +
      `a counterpart per chat sends every ${seconds(result.sendEveryMs.min)}–${seconds(result.sendEveryMs.max)}; ` +
      `${seconds(result.windowMs)} measured\n`,
  );
  console.log(
    table(
      ['', 'value'],
      [
        ['polls in the window', String(polls.count)],
        ['polls per visitor-hour', num(polls.perVisitorHour)],
        ['answers by nextPollMs', counts(polls.nextPollMs, ' ms')],
        ['failed polls (whole run)', counts(polls.failed)],
        ['poll round trip p50 / p95 ms', `${num(polls.requestMs.p50)} / ${num(polls.requestMs.p95)}`],
        [
          `${invocations.name} invocations (${invocations.memoryMb} MB)`,
          `${invocations.count}, p50 ${num(invocations.durationMs.p50)} ms, mean billed ${num(invocations.billedMsMean)} ms`,
        ],
        [
          'messages sent (measured) / delivered',
          `${delivery.sent} (${delivery.measured}) / ${delivery.delivered}`,
        ],
        [
          'delivery ms, commit → poller: p50 / p95 / p99 / max',
          `${num(delivery.deliveryMs.p50)} / ${num(delivery.deliveryMs.p95)} / ${num(delivery.deliveryMs.p99)} / ` +
            `${num(delivery.deliveryMs.max)} (n = ${delivery.deliveryMs.count})`,
        ],
        ['send → answer p50 ms (counterpart)', num(delivery.ackMs.p50)],
        [
          'lost / duplicates / out of order / seq gaps',
          `${delivery.lost} / ${delivery.duplicates} / ${delivery.outOfOrder} / ${delivery.gaps}`,
        ],
        [
          'failed sends / mismatched / not the bench’s',
          `${delivery.failedSends} / ${delivery.mismatched} / ${delivery.others}`,
        ],
        [
          'load average 1 min (before → after)',
          `${num(result.loadAverage1m.before)} → ${num(result.loadAverage1m.after)}`,
        ],
      ],
      2,
    ),
  );
  console.log(
    `DynamoDB calls per poll: ${Object.entries(result.dynamodbPerPoll)
      .map(([call, perPoll]) => `${call} ${quantity(perPoll)}`)
      .join(', ')}`,
  );

  console.log(
    `\nCost per polling visitor-hour (${PRICE_REGION} list prices looked up ${PRICES_LOOKED_UP}, ` +
      `test/bench/cost-prices.ts; ${num(cost.visitorHours)} visitor-hours measured):\n`,
  );
  const rows = cost.lines.map((line) => [
    line.service,
    line.item,
    `${quantity(line.perPoll)} ${line.unit}`,
    `${quantity(line.perVisitorHour)} ${line.unit}`,
    usd(line.usdPerVisitorHour),
  ]);
  for (const service of SERVICES) rows.push([service, 'subtotal', '', '', usd(cost.byService[service])]);
  rows.push(['total', '', '', '', usd(cost.usdPerVisitorHour)]);
  console.log(table(['service', 'item', 'per poll', 'per visitor-hour', '$ per visitor-hour'], rows, 2));
  console.log(
    `one poll costs $${usd(cost.usdPerPoll)} ($${num(cost.usdPerPoll * 1e6)} per 1M polls); ` +
      `not in it: Lambda init time of cold starts, data transfer, free tiers`,
  );

  console.log(`\ngoals per polling visitor:\n`);
  console.log(
    table(
      ['goal', 'measured', ''],
      result.goals.map((goal) => [goal.goal, goal.measured, goal.held ? 'holds' : 'MISSED']),
      2,
    ),
  );
  const pace = result.paceForGoals;
  console.log(
    `what the goals ask of the pace, at $${usd(cost.usdPerPoll)} and ${num(invocations.billedMsMean)} billed ms ` +
      `per poll: a mean interval between a visitor's polls of ≥ ${seconds(pace.minIntervalForCostMs)} ` +
      `(≤ $${POLLING_GOALS.usdPerVisitorHour}/h), ≥ ${seconds(pace.minIntervalForConcurrencyMs)} ` +
      `(≤ ${POLLING_GOALS.concurrencyPerVisitor} concurrent) and ≤ ${seconds(pace.maxIntervalForP50Ms)} ` +
      `(p50 ≤ ${seconds(POLLING_GOALS.deliveryP50Ms)}, half an interval plus a ${num(polls.requestMs.p50)} ms poll): ` +
      (pace.feasible ? 'some pace meets all three' : 'NO pace meets all three at this cost per poll'),
  );
  const missed = result.goals.filter((goal) => !goal.held).length;
  console.log(
    `polling goals: ${result.goals.length - missed} of ${result.goals.length} hold` +
      (missed > 0
        ? strict
          ? '; --strict: a missed goal fails the run'
          : ' (a missed goal fails the run only with --strict)'
        : '') +
      (pollingIntegrityOk(result)
        ? '; integrity OK'
        : `; INTEGRITY FAILED (exit 1)${result.drained ? '' : ': messages still not polled after --drain'}`),
  );
};
