/** The one backoff formula (shared/domain/backoff.ts) and the DynamoDB adapters' wait built on it. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoff } from '../../shared/adapters/dynamo/client.ts';
import { backoffDelay, equalJitter, noJitter } from '../../shared/domain/backoff.ts';
import { backoffDelay as sdkBackoffDelay } from '../../web/sdk/backoff.ts';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('backoffDelay', () => {
  it('doubles from baseMs with each attempt and stops growing at maxMs', () => {
    // Act
    const delays = [0, 1, 2, 3, 4, 5].map((attempt) => backoffDelay(attempt, 100, 1_000, noJitter));

    // Assess
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('has no cap unless one is given', () => {
    expect(backoffDelay(20, 20, undefined, noJitter)).toBe(20 * 2 ** 20);
  });

  it('scales the capped delay by the jitter, full jitter (Math.random) by default', () => {
    // Prepare
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.25);

    // Act
    const half = backoffDelay(3, 100, 10_000, () => 0.5);
    const full = backoffDelay(3, 100);

    // Assess
    expect(half).toBe(400);
    expect(full).toBe(200);
    expect(random).toHaveBeenCalledOnce();
  });

  it('keeps equal jitter between half the delay and the delay', () => {
    // Act
    const delays = Array.from({ length: 200 }, () => backoffDelay(2, 100, 10_000, equalJitter));

    // Assess
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(200);
    expect(Math.max(...delays)).toBeLessThanOrEqual(400);
  });

  it('is the formula the browser SDK retries with', () => {
    // Act
    const sdk = [0, 3, 9].map((attempt) => sdkBackoffDelay(attempt, 500, 30_000, () => 0.5));
    const shared = [0, 3, 9].map((attempt) => backoffDelay(attempt, 500, 30_000, () => 0.5));

    // Assess
    expect(sdk).toEqual(shared);
    expect(sdk).toEqual([250, 2_000, 15_000]);
  });
});

describe('backoff (DynamoDB adapters)', () => {
  it('waits the delay of its attempt: 20 ms doubled per attempt by default', async () => {
    // Prepare
    vi.useFakeTimers();
    let done = false;

    // Act
    const waiting = backoff(3, { jitter: noJitter }).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(159);
    const early = done;
    await vi.advanceTimersByTimeAsync(1);
    await waiting;

    // Assess
    expect(early).toBe(false);
    expect(done).toBe(true);
  });

  it('waits no longer than maxMs', async () => {
    // Prepare
    vi.useFakeTimers();
    let done = false;

    // Act
    const waiting = backoff(10, { maxMs: 200, jitter: noJitter }).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(200);
    await waiting;

    // Assess
    expect(done).toBe(true);
  });
});
