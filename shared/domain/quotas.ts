/**
 * Per-identity quotas and the long-poll bound, counted in the table (shared/adapters/dynamo/quota-store.ts).
 *
 * - A quota is a fixed window: `limit` requests of one kind per identity per `windowSeconds`, counted
 *   by one conditional write per request. The request past the limit is refused with 429
 *   `rate_limited` and the seconds until its window ends (`Retry-After`); a refused request counts
 *   nothing.
 * - Long polls hold a Lambda each, so an identity holds at most `bound` of them at once: a lease is
 *   taken before waiting and given back after. Leases are counted per lease period (a dead function's
 *   lease lapses with its period), so at a period's turn an identity may briefly hold up to twice the
 *   bound. A poll over the bound is answered at once, as a short poll that says so.
 *
 * The port is here, beside the only domain code that uses it; the clock is injected.
 */
import { RateLimitedError } from './errors.ts';
import type { Identity } from './identity.ts';
import type { Clock } from './ports.ts';
import type { Role } from './schemas.ts';

export type QuotaKind = 'chats' | 'messages' | 'sockets' | 'uploads' | 'systemEvents';

export interface QuotaRule {
  readonly limit: number;
  readonly windowSeconds: number;
}

/** A rule per kind; `undefined`: that kind is not limited (nothing is counted). */
export type QuotaRules = Readonly<Record<QuotaKind, QuotaRule | undefined>>;

/** Whose requests each kind counts (the others pass uncounted). */
export const QUOTA_ROLES: Readonly<Record<QuotaKind, readonly Role[]>> = {
  chats: ['visitor'],
  messages: ['visitor', 'user', 'agent', 'service'],
  sockets: ['visitor', 'user', 'agent', 'service'],
  uploads: ['visitor'],
  systemEvents: ['service'],
};

export const QUOTA_DEFAULTS: QuotaRules = {
  chats: { limit: 30, windowSeconds: 3600 },
  messages: { limit: 100, windowSeconds: 10 },
  sockets: { limit: 60, windowSeconds: 60 },
  uploads: { limit: 200, windowSeconds: 86_400 },
  systemEvents: { limit: 100, windowSeconds: 1 },
};

export const LONG_POLLS_PER_IDENTITY_DEFAULT = 4;
/** Lease periods: longer than the longest long poll (29 s function timeout), short enough to heal. */
export const LEASE_PERIOD_SECONDS = 60;

/** `100/10s`, `30/1h`, `200/1d` or `off`: a rule as the environment writes it. */
export const parseQuotaRule = (text: string): QuotaRule | undefined => {
  if (text.trim() === 'off') return undefined;
  const match = /^\s*(\d{1,9})\s*\/\s*(\d{1,6})\s*([smhd])\s*$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a quota: write it like 100/10s, 30/1h, 200/1d or off`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[match[3] as 's' | 'm' | 'h' | 'd'];
  const limit = Number(match[1]);
  const windowSeconds = Number(match[2]) * unit;
  if (limit < 1 || windowSeconds < 1) throw new Error(`"${text}": limit and window must be at least 1`);
  return { limit, windowSeconds };
};

export interface QuotaStore {
  /**
   * Counts one request under `key` in the window starting at `windowStart` (epoch seconds) unless
   * `limit` are counted already: false then, and nothing changes. The count expires at `expiresAt`.
   */
  take(key: string, windowStart: number, limit: number, expiresAt: number): Promise<boolean>;
  /** Takes one of `bound` leases under `key` for the period `period`: false (and no change) when none is left. */
  acquire(key: string, period: number, bound: number, expiresAt: number): Promise<boolean>;
  /** Gives back a lease taken in `period`. */
  release(key: string, period: number): Promise<void>;
}

/** One identity per tenant, role and user id: a visitor never shares a count with a user of the same id. */
export const identityKey = (identity: Identity): string =>
  `${identity.tenantId}#${identity.role}#${identity.userId}`;

export class Quotas {
  constructor(
    private readonly store: QuotaStore,
    private readonly clock: Clock,
    private readonly rules: QuotaRules = QUOTA_DEFAULTS,
    private readonly longPollsPerIdentity = LONG_POLLS_PER_IDENTITY_DEFAULT,
  ) {}

  private epoch(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }

  /** Counts one request of `kind` by `identity`; past the limit, RateLimitedError with the seconds to wait. */
  async take(kind: QuotaKind, identity: Identity): Promise<void> {
    const rule = this.rules[kind];
    if (!rule || !QUOTA_ROLES[kind].includes(identity.role)) return;
    const now = this.epoch();
    const windowStart = now - (now % rule.windowSeconds);
    const windowEnd = windowStart + rule.windowSeconds;
    const key = `${identityKey(identity)}#${kind}`;
    // The item outlives its window by a minute: TTL deletes late, and the key moves on anyway.
    if (await this.store.take(key, windowStart, rule.limit, windowEnd + 60)) return;
    throw new RateLimitedError(
      `at most ${rule.limit} ${QUOTA_NOUNS[kind]} per ${describeWindow(rule.windowSeconds)}; retry later`,
      Math.max(1, windowEnd - now),
    );
  }

  /**
   * Runs a poll that may wait `waitSeconds`: with a lease when it waits, as a short poll (`wait` 0,
   * `refused` true) when the identity holds every lease already. The lease is given back after.
   */
  async longPoll<T>(
    identity: Identity,
    waitSeconds: number,
    poll: (waitSeconds: number) => Promise<T>,
  ): Promise<{ result: T; refused: boolean }> {
    if (waitSeconds <= 0) return { result: await poll(0), refused: false };
    const now = this.epoch();
    const period = Math.floor(now / LEASE_PERIOD_SECONDS);
    const key = `${identityKey(identity)}#longPolls`;
    const expiresAt = (period + 2) * LEASE_PERIOD_SECONDS;
    if (!(await this.store.acquire(key, period, this.longPollsPerIdentity, expiresAt)))
      return { result: await poll(0), refused: true };
    try {
      return { result: await poll(waitSeconds), refused: false };
    } finally {
      // A lease not given back (the table throttled) lapses with its period: never fail the poll for it.
      await this.store.release(key, period).catch(() => undefined);
    }
  }
}

const QUOTA_NOUNS: Readonly<Record<QuotaKind, string>> = {
  chats: 'new chats',
  messages: 'messages',
  sockets: 'realtime tickets',
  uploads: 'uploads',
  systemEvents: 'system events',
};

const describeWindow = (seconds: number): string => {
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
  ] as const)
    if (seconds % size === 0) return seconds === size ? unit : `${seconds / size} ${unit}s`;
  return seconds === 1 ? 'second' : `${seconds} seconds`;
};
