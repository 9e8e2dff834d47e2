/**
 * How soon the polling fallback should poll again (`nextPollMs` in every poll's answer): the server
 * paces short polls instead of holding a function for a long poll, so a polling visitor costs a few
 * short invocations a minute rather than one invocation held open (docs/benchmarks.md, "Polling").
 * A chat with activity in the last ACTIVE_WINDOW_MS is polled at `activeMs`, a quiet one at `idleMs`.
 */
export interface PollPace {
  readonly activeMs: number;
  readonly idleMs: number;
}

export const POLL_PACE_DEFAULTS: PollPace = { activeMs: 2500, idleMs: 5000 };

/** A conversation counts as active this long after its last message or change. */
export const ACTIVE_WINDOW_MS = 120_000;

export const nextPollDelay = (lastActivityAt: string | undefined, now: Date, pace: PollPace): number => {
  const last = lastActivityAt ? Date.parse(lastActivityAt) : Number.NaN;
  return now.getTime() - last < ACTIVE_WINDOW_MS ? pace.activeMs : pace.idleMs;
};
