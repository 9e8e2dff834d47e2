import { afterEach, describe, expect, it, vi } from 'vitest';
import { startLoadGauge } from '../../infra/local/load-gauge.ts';

describe('load gauge (the local cloud’s event-loop lag)', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A gauge (250 ms threshold, 20 ms ticks, 2 s window) on a fake clock the test moves. */
  const gaugeOnFakeClock = () => {
    vi.useFakeTimers();
    let clock = 0;
    const gauge = startLoadGauge({ thresholdMs: 250, intervalMs: 20, windowMs: 2_000, now: () => clock });
    return {
      gauge,
      /** Time passes with the loop free: the timer fires on time. */
      idle: (ms: number) => {
        for (let step = 0; step < ms; step += 10) {
          clock += 10;
          vi.advanceTimersByTime(10);
        }
      },
      /** The loop is busy for `ms`, then the timer fires once, that late. */
      busy: (ms: number) => {
        clock += ms;
        vi.advanceTimersByTime(20);
      },
    };
  };

  it('reads overloaded once two ticks within the window came at least the threshold late', () => {
    // Prepare
    const { gauge, ...clock } = gaugeOnFakeClock();

    // Act
    clock.idle(200);
    const calm = gauge.overloaded();
    clock.busy(400);
    const afterOnePause = gauge.overloaded();
    clock.busy(600);
    const afterTwo = gauge.overloaded();
    gauge.stop();

    // Assess: one pause is not overload; a loop that keeps falling behind is
    expect(calm).toBe(false);
    expect(afterOnePause).toBe(false);
    expect(afterTwo).toBe(true);
  });

  it('reads calm again once the late ticks have left the window', () => {
    // Prepare: overloaded
    const { gauge, ...clock } = gaugeOnFakeClock();
    clock.busy(300);
    clock.busy(300);
    const before = gauge.overloaded();

    // Act
    clock.idle(2_100);
    const after = gauge.overloaded();
    gauge.stop();

    // Assess
    expect(before).toBe(true);
    expect(after).toBe(false);
  });

  it('does not count ticks that were late by less than the threshold', () => {
    // Prepare
    const { gauge, ...clock } = gaugeOnFakeClock();

    // Act: the loop keeps running 200 ms late
    for (let tick = 0; tick < 8; tick++) clock.busy(200);
    const overloaded = gauge.overloaded();
    gauge.stop();

    // Assess
    expect(overloaded).toBe(false);
  });
});

describe('load gauge (invocations in flight)', () => {
  it('reads overloaded while maxInFlight invocations run, and calm once one ends', () => {
    // Prepare
    const gauge = startLoadGauge({ maxInFlight: 2 });
    const first = gauge.invocation();
    const one = gauge.overloaded();

    // Act
    const second = gauge.invocation();
    const two = gauge.overloaded();
    first();
    first(); // ending twice counts once
    const after = gauge.overloaded();
    second();
    gauge.stop();

    // Assess
    expect(one).toBe(false);
    expect(two).toBe(true);
    expect(after).toBe(false);
  });
});
