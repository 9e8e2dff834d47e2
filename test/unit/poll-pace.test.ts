/** Server-paced polling: the pace the server answers with, and the SDK's loop that follows it. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ACTIVE_WINDOW_MS, nextPollDelay } from '../../shared/domain/poll-pace.ts';
import { type PollDeps, type PollOutcome, pollLoop } from '../../web/sdk/polling.ts';
import { DEFAULT_TIMING } from '../../web/sdk/client.ts';

const pace = { activeMs: 1500, idleMs: 5000 };
const now = new Date('2026-12-01T10:00:00.000Z');

describe('nextPollDelay', () => {
  it('paces an active chat at activeMs and a quiet one at idleMs', () => {
    const recent = new Date(now.getTime() - ACTIVE_WINDOW_MS + 1000).toISOString();
    const old = new Date(now.getTime() - ACTIVE_WINDOW_MS - 1000).toISOString();

    expect(nextPollDelay(recent, now, pace)).toBe(1500);
    expect(nextPollDelay(old, now, pace)).toBe(5000);
    expect(nextPollDelay(undefined, now, pace)).toBe(5000);
  });
});

describe('pollLoop', () => {
  afterEach(() => vi.useRealTimers());

  const deps = (): PollDeps => ({
    request: async () => {
      throw new Error('not used');
    },
    timing: { ...DEFAULT_TIMING, minBackoffMs: 500, maxBackoffMs: 30_000 },
    envelope: () => {},
    health: () => {},
  });

  it('short-polls by default, at once while there is more, then after the server’s nextPollMs', async () => {
    // Prepare: answers "more", then a 1.5 s pace, then a 5 s pace
    vi.useFakeTimers();
    const answers: PollOutcome[] = [
      { more: true, nextPollMs: 1500 },
      { more: false, nextPollMs: 1500 },
      { more: false, nextPollMs: 5000 },
    ];
    const calls: { at: number; wait: number }[] = [];
    const controller = new AbortController();
    const once = async (wait: number): Promise<PollOutcome> => {
      calls.push({ at: Date.now(), wait });
      const answer = answers.shift();
      if (!answer) controller.abort();
      return answer ?? { more: false };
    };
    const start = Date.now();

    // Act
    const loop = pollLoop(once, deps(), controller.signal);
    await vi.advanceTimersByTimeAsync(10_000);
    await loop;

    // Assess: no long poll is ever asked for; the pauses are 0, 1.5 s and 5 s
    expect(DEFAULT_TIMING.pollWaitSeconds).toBe(0);
    expect(calls.map((call) => [call.at - start, call.wait])).toEqual([
      [0, 0],
      [0, 0],
      [1500, 0],
      [6500, 0],
    ]);
  });

  it('never pauses longer than a minute or shorter than minBackoffMs, whatever the server says', async () => {
    vi.useFakeTimers();
    const answers: PollOutcome[] = [
      { more: false, nextPollMs: 10 },
      { more: false, nextPollMs: 3_600_000 },
    ];
    const times: number[] = [];
    const controller = new AbortController();
    const once = async (): Promise<PollOutcome> => {
      times.push(Date.now());
      const answer = answers.shift();
      if (!answer) controller.abort();
      return answer ?? { more: false };
    };

    const loop = pollLoop(once, deps(), controller.signal);
    await vi.advanceTimersByTimeAsync(70_000);
    await loop;

    expect(times.map((t, i) => (i === 0 ? 0 : t - (times[i - 1] ?? 0)))).toEqual([0, 500, 60_000]);
  });
});
