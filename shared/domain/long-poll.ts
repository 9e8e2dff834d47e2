/**
 * The one long-poll loop (GET /v1/chats/{chatId}/events and GET /v1/chats/changes): read, answer at
 * once if the read found something, otherwise sleep `intervalMs` and read again until `waitMs` is up.
 * The clock and the sleep are injected, so tests drive time without waiting on it.
 *
 * The function's own deadline is not counted here: the HTTP edge (shared/http/middleware.ts,
 * `longPoll`) has middy abort the handler's `signal` shortly before the Lambda timeout. An aborted
 * signal cuts the sleep short; the loop then reads one last time and answers with it.
 */
import { type Clock, systemClock } from './ports.ts';

/** Resolves after `ms`, or as soon as `signal` aborts; never rejects. */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** A timer sleep that removes its abort listener (middy reuses one AbortController across requests). */
export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const wake = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', wake);
      resolve();
    };
    const timer = setTimeout(wake, ms);
    signal?.addEventListener('abort', wake, { once: true });
  });

/** What a long poll waits by: the wall clock and a timer, unless a test injects its own. */
export interface PollTimer {
  readonly clock: Clock;
  readonly sleep: Sleep;
}

export const systemPollTimer: PollTimer = { clock: systemClock, sleep };

export interface LongPoll<T> {
  /** One round; called again every `intervalMs` (its closure keeps whatever cursor it advances). */
  readonly read: () => Promise<T>;
  /** A round worth answering at once (something new, or more waiting). */
  readonly found: (result: T) => boolean;
  /** How long to keep reading (the request's `waitSeconds`); 0 reads once. */
  readonly waitMs: number;
  readonly intervalMs: number;
  /** Aborted when the function is about to run out of time: answer after one more read. */
  readonly signal?: AbortSignal;
}

/**
 * Reads until a round is `found`, the next round would start after `waitMs`, or `signal` aborts;
 * returns the last round read.
 */
export const longPoll = async <T>(timer: PollTimer, poll: LongPoll<T>): Promise<T> => {
  const deadline = timer.clock.now().getTime() + poll.waitMs;
  for (;;) {
    const result = await poll.read();
    if (
      poll.found(result) ||
      poll.signal?.aborted ||
      timer.clock.now().getTime() + poll.intervalMs > deadline
    )
      return result;
    await timer.sleep(poll.intervalMs, poll.signal);
  }
};
