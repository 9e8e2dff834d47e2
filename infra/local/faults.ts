/**
 * The local cloud's fault plan (docs/reliability.md, "Fault injection"): which of AWS's documented
 * failures the emulated services produce, and how often. Off unless a plan is given (`--faults <file>`,
 * `CHAT_FAULTS` = a file path or inline JSON, or `LocalCloudOptions.faults`). Every decision comes from
 * one seeded generator per fault site, so a run with the same plan and seed injects the same sequence of
 * faults at each site (the interleaving of sites still follows the machine's timing).
 *
 * Shares are probabilities per call (0 … 1). Nothing is invented: each fault is an answer or a behaviour
 * AWS documents for that service (see the comments on each field).
 */
import { readFileSync } from 'node:fs';
import * as z from '../../shared/zod.ts';

const share = z.number().check(z.gte(0), z.lte(1));
const ms = z.number().check(z.int(), z.gte(0), z.lte(600_000));

const dynamoOperationFaults = z.strictObject({
  /** HTTP 400 `ProvisionedThroughputExceededException` (the SDK retries it with backoff). */
  throughputExceeded: z.optional(share),
  /** HTTP 400 `ThrottlingException` (control-plane and on-demand throttling; retried by the SDK). */
  throttling: z.optional(share),
  /** HTTP 500 `InternalServerError`, answered without applying the request (retried by the SDK). */
  internalError: z.optional(share),
});
export type DynamoOperationFaults = z.infer<typeof dynamoOperationFaults>;

const faultPlanSchema = z.strictObject({
  /** Seeds every fault site's generator (default 1). */
  seed: z.optional(z.number().check(z.int())),
  /**
   * DynamoDB calls made by the handlers, per operation (`PutItem`, `TransactWriteItems`, … — the
   * `X-Amz-Target` suffix), `*` for any operation not listed.
   */
  dynamo: z.optional(z.record(z.string(), dynamoOperationFaults)),
  /** `POST @connections/{id}` (PostToConnection). */
  connections: z.optional(
    z.strictObject({
      /** The connection is lost just as the post arrives: the socket drops, the post is answered 410. */
      gone: z.optional(share),
      /** 429 `LimitExceededException` (the post rate or the client's buffer). */
      limitExceeded: z.optional(share),
      /** 500 with nothing delivered. */
      internalError: z.optional(share),
      /** The post gets no answer for `hangMs` (then its connection is cut); nothing is delivered. */
      hang: z.optional(share),
      hangMs: z.optional(ms),
    }),
  ),
  sockets: z.optional(
    z.strictObject({
      /** On average this many random connections per second are lost (1006, `$disconnect` runs). */
      dropsPerSecond: z.optional(z.number().check(z.gte(0), z.lte(1000))),
      /** The WebSocket endpoint restarts this often: every socket closed (1001), the port closed for `downMs`. */
      restartEveryMs: z.optional(ms),
      downMs: z.optional(ms),
    }),
  ),
  /** Stream event-source mappings (every stream consumer). */
  stream: z.optional(
    z.strictObject({
      /** A batch the function processed is delivered again (at-least-once). */
      redeliver: z.optional(share),
      /**
       * The invocation fails with "Task timed out" at a random point up to `timeoutWithinMs` after it
       * started; the handler's work is abandoned and the batch is retried.
       */
      timeout: z.optional(share),
      timeoutWithinMs: z.optional(ms),
    }),
  ),
});
export type FaultPlan = z.infer<typeof faultPlanSchema>;

/**
 * The full plan (`--plan full` in `npm run chaos`): every fault at once, at rates a 2,000-message run
 * survives in a couple of minutes on a small machine.
 */
export const FULL_PLAN: FaultPlan = {
  seed: 1,
  dynamo: {
    '*': { throughputExceeded: 0.005, throttling: 0.002, internalError: 0.002 },
    TransactWriteItems: { throughputExceeded: 0.02, throttling: 0.005, internalError: 0.005 },
    Query: { throughputExceeded: 0.01, internalError: 0.003 },
  },
  connections: { gone: 0.002, limitExceeded: 0.01, internalError: 0.005, hang: 0.001, hangMs: 5_000 },
  sockets: { dropsPerSecond: 0.1, restartEveryMs: 60_000, downMs: 300 },
  stream: { redeliver: 0.03, timeout: 0.02, timeoutWithinMs: 200 },
};

/** Parses a plan; throws a readable error naming the bad field. */
export const parseFaultPlan = (value: unknown, source = 'fault plan'): FaultPlan => {
  const parsed = faultPlanSchema.safeParse(value);
  if (!parsed.success)
    throw new Error(
      `${source}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`,
    );
  return parsed.data;
};

/**
 * The plan of `fileOrJson` (a path to a JSON file, inline JSON, or `full`); without one, of the
 * `CHAT_FAULTS` environment variable; undefined (no faults) when neither is set.
 */
export const loadFaultPlan = (fileOrJson = process.env.CHAT_FAULTS): FaultPlan | undefined => {
  const spec = fileOrJson?.trim();
  if (!spec) return undefined;
  if (spec === 'full') return FULL_PLAN;
  const text = spec.startsWith('{') ? spec : readFileSync(spec, 'utf8');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`fault plan ${spec.startsWith('{') ? '(inline)' : spec}: not JSON (${String(error)})`, {
      cause: error,
    });
  }
  return parseFaultPlan(json, spec.startsWith('{') ? 'fault plan' : `fault plan ${spec}`);
};

/** mulberry32: a small, fast, seedable generator of floats in [0, 1). */
export const seededRandom = (seed: number): (() => number) => {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

/** FNV-1a of a site name: each fault site draws from its own stream of the plan's seed. */
const hash = (text: string): number => {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
};

/** How many times each fault fired, by site and kind (e.g. `connections.limitExceeded`). */
export type FaultCounts = Record<string, number>;

/**
 * Fault decisions for one local cloud: `random(site)` is the site's seeded generator; `pick` draws one
 * of several exclusive outcomes by their shares and counts what fired.
 */
export class FaultInjector {
  readonly #streams = new Map<string, () => number>();
  readonly #counts: FaultCounts = {};

  constructor(readonly plan: FaultPlan) {}

  random(site: string): number {
    let next = this.#streams.get(site);
    if (!next) {
      next = seededRandom((this.plan.seed ?? 1) ^ hash(site));
      this.#streams.set(site, next);
    }
    return next();
  }

  /** One draw at `site`: the first outcome whose cumulative share covers it, else undefined. */
  pick<K extends string>(
    site: string,
    shares: Partial<Record<K, number | undefined>> | undefined,
  ): K | undefined {
    if (!shares) return undefined;
    const draw = this.random(site);
    let cumulative = 0;
    for (const [kind, value] of Object.entries(shares) as [K, number | undefined][]) {
      if (typeof value !== 'number' || kind.endsWith('Ms')) continue;
      cumulative += value;
      if (draw < cumulative) {
        this.count(`${site}.${kind}`);
        return kind;
      }
    }
    return undefined;
  }

  count(key: string): void {
    this.#counts[key] = (this.#counts[key] ?? 0) + 1;
  }

  counts(): FaultCounts {
    return { ...this.#counts };
  }
}
