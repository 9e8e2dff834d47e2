import { backoffDelay as capped } from '#shared/domain/backoff.ts';

/**
 * Exponential backoff with full jitter: a random delay in [0, min(max, min · 2^attempt)). The server's
 * formula (shared/domain/backoff.ts), declared here so the SDK's types name nothing outside the SDK.
 */
export const backoffDelay = (
  attempt: number,
  minMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number => capped(attempt, minMs, maxMs, random);

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', stop);
      resolve();
    }
    function stop(): void {
      clearTimeout(timer);
      reject(new Error('aborted'));
    }
    if (signal?.aborted) stop();
    else signal?.addEventListener('abort', stop);
  });

/**
 * Runs `run` until it succeeds, sleeping a backoff delay between attempts. Stops (rejects) on an error
 * `retryable` refuses or when `signal` aborts; `onError` sees every failure.
 */
export const retry = async <T>(
  run: () => Promise<T>,
  options: {
    minMs: number;
    maxMs: number;
    signal?: AbortSignal;
    retryable?: (error: unknown) => boolean;
    onError?: (error: unknown) => void;
  },
): Promise<T> => {
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (error) {
      if (options.signal?.aborted || (options.retryable && !options.retryable(error))) throw error;
      options.onError?.(error);
      const backoff = backoffDelay(attempt, options.minMs, options.maxMs);
      await sleep(
        Math.max(backoff, (error as { retryAfterMs?: number } | null)?.retryAfterMs || 0),
        options.signal,
      );
    }
  }
};
