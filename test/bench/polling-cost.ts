/**
 * The polling mode's figures, pure: what AWS would bill per polling visitor-hour (the cost model of
 * cost.ts over the polls' HTTP API requests, poll-handler invocations, DynamoDB calls and log bytes),
 * the average concurrent invocations per visitor, the polling goals (docs/benchmarks.md, "Polling") and what they ask of the
 * server's pace.
 */
import type { Goal } from './hot-report.ts';
import {
  billedDurationMs,
  costPerMillionMessages,
  type CostInput,
  type DynamoCall,
  type FunctionUse,
  type Service,
  SERVICES,
} from './cost.ts';
import { HTTP_ACCESS_LOG_BYTES_PER_REQUEST, logLines } from './cost-meters.ts';
import { PRICES, type Prices } from './cost-prices.ts';

/** Issue 10, item 5: per polling visitor. */
export const POLLING_GOALS = {
  usdPerVisitorHour: 0.003,
  concurrencyPerVisitor: 0.05,
  deliveryP50Ms: 1500,
} as const;

/** What the polls of one measured window did. */
export interface PollWindow {
  readonly visitors: number;
  readonly windowMs: number;
  /** One entry per poll request answered in the window: its size (HTTP API requests: per 512 KB). */
  readonly requestBytes: readonly number[];
  /** The poll handler, one duration per invocation ended in the window. */
  readonly functions: readonly FunctionUse[];
  /** The DynamoDB calls the polls made, as billed. */
  readonly dynamodb: readonly DynamoCall[];
  /** Log bytes the poll handler wrote (measured). */
  readonly logs: { readonly recordBytes: number; readonly emfBytes: number };
}

export const visitorHours = (visitors: number, windowMs: number): number => (visitors * windowMs) / 3_600_000;

/**
 * The cost model's input for a window of polls, as ONE "message": the model's dollars per 1M messages
 * divided by 1M are then the window's dollars. Logs: the measured handler lines, plus Lambda's
 * system log lines per invocation (none at the deployed WARN) and the HTTP API's access-log record per request (modelled).
 */
export const pollingCostInput = (window: PollWindow): CostInput => {
  const invocations = window.functions.reduce((sum, use) => sum + use.durationsMs.length, 0);
  return {
    messages: 1,
    frames: { inBytes: [], outBytes: [] },
    httpRequestBytes: window.requestBytes,
    functions: window.functions,
    dynamodb: window.dynamodb,
    logs: logLines(window.logs, invocations, {
      source: 'API Gateway HTTP access log (modelled)',
      bytes: window.requestBytes.length * HTTP_ACCESS_LOG_BYTES_PER_REQUEST,
    }),
  };
};

export interface VisitorHourLine {
  readonly service: Service;
  readonly item: string;
  /** Billed quantity per visitor-hour, in `unit`. */
  readonly perVisitorHour: number;
  readonly perPoll: number;
  readonly unit: string;
  readonly usdPerVisitorHour: number;
}

export interface VisitorHourCost {
  readonly visitorHours: number;
  readonly polls: number;
  readonly pollsPerVisitorHour: number;
  readonly lines: readonly VisitorHourLine[];
  readonly byService: Readonly<Record<Service, number>>;
  readonly usdPerVisitorHour: number;
  /** Everything one poll costs, on average. */
  readonly usdPerPoll: number;
}

/** What AWS would bill for the window's polls, per visitor-hour, by service and line. */
export const costPerVisitorHour = (window: PollWindow, prices: Prices = PRICES): VisitorHourCost => {
  const cost = costPerMillionMessages(pollingCostInput(window), prices);
  const hours = visitorHours(window.visitors, window.windowMs);
  const polls = window.requestBytes.length;
  const perHour = (value: number) => (hours > 0 ? value / hours : 0);
  const perPoll = (value: number) => (polls > 0 ? value / polls : 0);
  const lines = cost.lines.map((line) => ({
    service: line.service,
    item: line.item,
    perVisitorHour: perHour(line.perMessage),
    perPoll: perPoll(line.perMessage),
    unit: line.unit,
    usdPerVisitorHour: perHour(line.usdPerMillionMessages / 1e6),
  }));
  const byService = Object.fromEntries(
    SERVICES.map((service) => [service, perHour(cost.byService[service] / 1e6)]),
  ) as Record<Service, number>;
  const usd = cost.usdPerMillionMessages / 1e6;
  return {
    visitorHours: hours,
    polls,
    pollsPerVisitorHour: perHour(polls),
    lines,
    byService,
    usdPerVisitorHour: perHour(usd),
    usdPerPoll: perPoll(usd),
  };
};

/**
 * Average concurrent invocations per visitor: the billed duration of the poll handler's invocations
 * (each rounded up to 1 ms, as Lambda bills it) ÷ (wall time × visitors).
 */
export const concurrencyPerVisitor = (
  durationsMs: readonly number[],
  windowMs: number,
  visitors: number,
): number => (windowMs > 0 && visitors > 0 ? billedDurationMs(durationsMs) / (windowMs * visitors) : 0);

export interface PollingFigures {
  readonly usdPerVisitorHour: number;
  readonly concurrencyPerVisitor: number;
  readonly deliveryP50Ms: number;
  /** Measured messages delivered (no latency without one). */
  readonly delivered: number;
}

/** The three goals, held or missed (none is an integrity goal: integrity is judged on its own). */
export const pollingGoals = (figures: PollingFigures): Goal[] => [
  {
    goal: `≤ $${POLLING_GOALS.usdPerVisitorHour} per polling visitor-hour`,
    measured: `$${figures.usdPerVisitorHour.toPrecision(3)}`,
    held: figures.usdPerVisitorHour <= POLLING_GOALS.usdPerVisitorHour,
    integrity: false,
  },
  {
    goal: `≤ ${POLLING_GOALS.concurrencyPerVisitor} concurrent invocations per visitor (average)`,
    measured: figures.concurrencyPerVisitor.toPrecision(3),
    held: figures.concurrencyPerVisitor <= POLLING_GOALS.concurrencyPerVisitor,
    integrity: false,
  },
  {
    goal: `p50 delivery ≤ ${POLLING_GOALS.deliveryP50Ms / 1000} s (commit → poller)`,
    measured: figures.delivered > 0 ? `${(figures.deliveryP50Ms / 1000).toFixed(2)} s` : 'no delivery',
    held: figures.delivered > 0 && figures.deliveryP50Ms <= POLLING_GOALS.deliveryP50Ms,
    integrity: false,
  },
];

/**
 * What the goals ask of the pace, at the measured cost and duration of one poll: the shortest mean
 * interval between a visitor's polls that keeps within the dollar budget and within the concurrency
 * budget, and the longest that keeps the p50 delivery goal (a message waits half an interval on
 * average, plus the poll's own time). `feasible`: some interval meets all three.
 */
export const paceForGoals = (perPoll: {
  readonly usd: number;
  readonly billedMs: number;
  readonly requestMs: number;
}): {
  readonly minIntervalForCostMs: number;
  readonly minIntervalForConcurrencyMs: number;
  readonly maxIntervalForP50Ms: number;
  readonly feasible: boolean;
} => {
  const minIntervalForCostMs = (3_600_000 * perPoll.usd) / POLLING_GOALS.usdPerVisitorHour;
  const minIntervalForConcurrencyMs = perPoll.billedMs / POLLING_GOALS.concurrencyPerVisitor;
  const maxIntervalForP50Ms = Math.max(0, 2 * (POLLING_GOALS.deliveryP50Ms - perPoll.requestMs));
  return {
    minIntervalForCostMs,
    minIntervalForConcurrencyMs,
    maxIntervalForP50Ms,
    feasible: Math.max(minIntervalForCostMs, minIntervalForConcurrencyMs) <= maxIntervalForP50Ms,
  };
};
