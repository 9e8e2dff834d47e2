/**
 * The one long-poll loop (shared/domain/long-poll.ts) on a fake clock whose sleep only moves time: no
 * test here waits on the wall clock.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { longPoll, type PollTimer, sleep } from '../../shared/domain/long-poll.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

/** A clock at `now`, and a sleep that moves it (and can run a callback at a given time). */
const fakeTimer = () => {
  const state = { now: T0, sleeps: [] as number[], onSleep: (_at: number): void => undefined };
  const timer: PollTimer = {
    clock: { now: () => new Date(state.now) },
    sleep: async (ms, signal) => {
      state.sleeps.push(ms);
      state.onSleep(state.now);
      if (signal?.aborted) return;
      state.now += ms;
    },
  };
  return { state, timer };
};

/** A read that records when it ran and returns what `results` holds for that round (else nothing). */
const reads = (state: { now: number }, results: Record<number, string[]> = {}) => {
  const at: number[] = [];
  const read = async () => {
    at.push(state.now - T0);
    return results[at.length] ?? [];
  };
  return { at, read };
};

const found = (items: string[]) => items.length > 0;

describe('longPoll', () => {
  it('reads once and answers at once when there is something, or when it may not wait', async () => {
    // Prepare
    const { state, timer } = fakeTimer();
    const full = reads(state, { 1: ['m1'] });
    const empty = reads(state);

    // Act
    const first = await longPoll(timer, { read: full.read, found, waitMs: 20_000, intervalMs: 500 });
    const second = await longPoll(timer, { read: empty.read, found, waitMs: 0, intervalMs: 500 });

    // Assess
    expect(first).toEqual(['m1']);
    expect(full.at).toEqual([0]);
    expect(second).toEqual([]);
    expect(empty.at).toEqual([0]);
    expect(state.sleeps).toEqual([]);
  });

  it('re-reads every interval and answers with the first round that found something', async () => {
    // Prepare
    const { state, timer } = fakeTimer();
    const { at, read } = reads(state, { 4: ['m1', 'm2'] });

    // Act
    const result = await longPoll(timer, { read, found, waitMs: 20_000, intervalMs: 500 });

    // Assess
    expect(result).toEqual(['m1', 'm2']);
    expect(at).toEqual([0, 500, 1000, 1500]);
  });

  it('answers with the last (empty) round when the next one would start after the wait', async () => {
    // Prepare
    const { state, timer } = fakeTimer();
    const { at, read } = reads(state);

    // Act
    const result = await longPoll(timer, { read, found, waitMs: 2_000, intervalMs: 500 });

    // Assess
    expect(result).toEqual([]);
    expect(at).toEqual([0, 500, 1000, 1500, 2000]);
    expect(state.now - T0).toBe(2_000);
  });

  it('counts time spent reading: a slow read leaves fewer rounds', async () => {
    // Prepare
    const { state, timer } = fakeTimer();
    const at: number[] = [];
    const read = async () => {
      at.push(state.now - T0);
      state.now += 300;
      return [];
    };

    // Act
    await longPoll(timer, { read, found, waitMs: 2_000, intervalMs: 500 });

    // Assess: rounds end at 300, 1100, 1900; at 1900 another 500 ms would pass the 2 s wait
    expect(at).toEqual([0, 800, 1600]);
    expect(state.now - T0).toBe(1_900);
  });

  it('on abort (the function running short of time) cuts the sleep, reads once more and answers', async () => {
    // Prepare
    const { state, timer } = fakeTimer();
    const controller = new AbortController();
    state.onSleep = (now) => {
      if (now - T0 === 1_000) controller.abort();
    };
    const { at, read } = reads(state, { 4: ['late'] });

    // Act
    const result = await longPoll(timer, {
      read,
      found,
      waitMs: 20_000,
      intervalMs: 500,
      signal: controller.signal,
    });

    // Assess
    expect(at).toEqual([0, 500, 1000, 1000]);
    expect(result).toEqual(['late']);
  });

  it('reads once, without sleeping, when the signal is already aborted', async () => {
    // Prepare
    const { state, timer } = fakeTimer();
    const { at, read } = reads(state);

    // Act
    const result = await longPoll(timer, {
      read,
      found,
      waitMs: 20_000,
      intervalMs: 500,
      signal: AbortSignal.abort(),
    });

    // Assess
    expect(result).toEqual([]);
    expect(at).toEqual([0]);
    expect(state.sleeps).toEqual([]);
  });
});

describe('sleep (the timer the loop uses outside tests)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after its time, or at once on abort, and leaves no listener on the signal', async () => {
    // Prepare
    vi.useFakeTimers();
    const controller = new AbortController();
    const listeners = { added: 0, removed: 0 };
    const { addEventListener, removeEventListener } = controller.signal;
    controller.signal.addEventListener = (...args: Parameters<typeof addEventListener>) => {
      listeners.added += 1;
      addEventListener.apply(controller.signal, args);
    };
    controller.signal.removeEventListener = (...args: Parameters<typeof removeEventListener>) => {
      listeners.removed += 1;
      removeEventListener.apply(controller.signal, args);
    };
    let timed = false;
    let cut = false;

    // Act
    const timedSleep = sleep(500, controller.signal).then(() => (timed = true));
    await vi.advanceTimersByTimeAsync(499);
    const timedBefore = timed;
    await vi.advanceTimersByTimeAsync(1);
    await timedSleep;
    const cutSleep = sleep(60_000, controller.signal).then(() => (cut = true));
    controller.abort();
    await cutSleep;

    // Assess
    expect(timedBefore).toBe(false);
    expect(timed).toBe(true);
    expect(cut).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(listeners).toEqual({ added: 2, removed: 2 });
    await expect(sleep(60_000, controller.signal)).resolves.toBeUndefined();
  });
});
