/** Per-identity quotas and the long-poll bound (shared/domain/quotas.ts) over an in-memory store. */
import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../shared/domain/errors.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import { parseQuotaRule, type QuotaStore, Quotas, QUOTA_DEFAULTS } from '../../shared/domain/quotas.ts';

class MemoryQuotaStore implements QuotaStore {
  readonly counts = new Map<string, number>();
  async take(key: string, windowStart: number, limit: number): Promise<boolean> {
    return this.add(`${key}@${windowStart}`, limit);
  }
  async acquire(key: string, period: number, bound: number): Promise<boolean> {
    return this.add(`lease:${key}@${period}`, bound);
  }
  async release(key: string, period: number): Promise<void> {
    const id = `lease:${key}@${period}`;
    this.counts.set(id, Math.max(0, (this.counts.get(id) ?? 0) - 1));
  }
  private add(id: string, limit: number): boolean {
    const count = this.counts.get(id) ?? 0;
    if (count >= limit) return false;
    this.counts.set(id, count + 1);
    return true;
  }
}

const clockAt = (iso: string) => {
  let now = new Date(iso);
  return { now: () => now, set: (next: string) => (now = new Date(next)) };
};
const visitor: Identity = { tenantId: 'acme', userId: 'v-1', role: 'visitor' };
const user: Identity = { tenantId: 'acme', userId: 'v-1', role: 'user' };
const rules = { ...QUOTA_DEFAULTS, messages: { limit: 3, windowSeconds: 10 } };

describe('Quotas.take', () => {
  it('passes `limit` requests per window, refuses the next with the seconds to its end, and counts again in the next window', async () => {
    // Prepare
    const clock = clockAt('2026-12-04T10:00:04.000Z');
    const quotas = new Quotas(new MemoryQuotaStore(), clock, rules);
    for (let i = 0; i < 3; i++) await quotas.take('messages', visitor);

    // Act
    const refused = await quotas.take('messages', visitor).catch((error: unknown) => error);
    clock.set('2026-12-04T10:00:10.000Z');
    const nextWindow = quotas.take('messages', visitor);

    // Assess
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect(refused).toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 6 });
    await expect(nextWindow).resolves.toBeUndefined();
  });

  it('counts a visitor and a user of the same id apart, and only the roles a kind names', async () => {
    // Prepare
    const store = new MemoryQuotaStore();
    const quotas = new Quotas(store, clockAt('2026-12-04T10:00:00.000Z'), {
      ...rules,
      chats: { limit: 1, windowSeconds: 3600 },
    });
    await quotas.take('messages', visitor);

    // Act
    await quotas.take('messages', user);
    await quotas.take('chats', user);
    await quotas.take('chats', user);

    // Assess
    expect([...store.counts.keys()].sort()).toEqual([
      'acme#user#v-1#messages@1796378400',
      'acme#visitor#v-1#messages@1796378400',
    ]);
  });

  it('counts nothing for a kind switched off', async () => {
    // Prepare
    const store = new MemoryQuotaStore();
    const quotas = new Quotas(store, clockAt('2026-12-04T10:00:00.000Z'), { ...rules, messages: undefined });

    // Act
    for (let i = 0; i < 10; i++) await quotas.take('messages', visitor);

    // Assess
    expect(store.counts.size).toBe(0);
  });
});

describe('Quotas.longPoll', () => {
  it('lets `bound` long polls of one identity wait, answers the next at once as refused, and frees a lease after each', async () => {
    // Prepare
    const store = new MemoryQuotaStore();
    const quotas = new Quotas(store, clockAt('2026-12-04T10:00:00.000Z'), rules, 2);
    const gates: (() => void)[] = [];
    const waiting = (waitSeconds: number) =>
      new Promise<number>((resolve) => gates.push(() => resolve(waitSeconds)));

    // Act
    const first = quotas.longPoll(visitor, 20, waiting);
    const second = quotas.longPoll(visitor, 20, waiting);
    await new Promise((resolve) => setImmediate(resolve));
    const third = await quotas.longPoll(visitor, 20, async (waitSeconds) => waitSeconds);
    for (const open of gates) open();
    const answered = await Promise.all([first, second]);
    const afterwards = await quotas.longPoll(visitor, 20, async (waitSeconds) => waitSeconds);

    // Assess
    expect(third).toEqual({ result: 0, refused: true });
    expect(answered).toEqual([
      { result: 20, refused: false },
      { result: 20, refused: false },
    ]);
    expect(afterwards).toEqual({ result: 20, refused: false });
  });

  it('takes no lease for a short poll and gives the lease back when the poll fails', async () => {
    // Prepare
    const store = new MemoryQuotaStore();
    const quotas = new Quotas(store, clockAt('2026-12-04T10:00:00.000Z'), rules, 1);

    // Act
    await quotas.longPoll(visitor, 0, async () => 'short');
    const failed = quotas.longPoll(visitor, 5, async () => {
      throw new Error('read failed');
    });
    await expect(failed).rejects.toThrow('read failed');
    const next = await quotas.longPoll(visitor, 5, async (waitSeconds) => waitSeconds);

    // Assess
    expect(next).toEqual({ result: 5, refused: false });
    expect([...store.counts.values()]).toEqual([0]);
  });
});

describe('parseQuotaRule', () => {
  it('reads limits per second, minute, hour and day, and off', () => {
    expect(parseQuotaRule('100/10s')).toEqual({ limit: 100, windowSeconds: 10 });
    expect(parseQuotaRule('30/1h')).toEqual({ limit: 30, windowSeconds: 3600 });
    expect(parseQuotaRule('200/1d')).toEqual({ limit: 200, windowSeconds: 86_400 });
    expect(parseQuotaRule('5/2m')).toEqual({ limit: 5, windowSeconds: 120 });
    expect(parseQuotaRule('off')).toBeUndefined();
  });

  it('refuses anything else with a message that shows the format', () => {
    for (const text of ['100', '10/s', '0/1s', '-1/1s', '5/1w', '1/0s'])
      expect(() => parseQuotaRule(text)).toThrow(/100\/10s|at least 1/);
  });
});
