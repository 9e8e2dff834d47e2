/**
 * The one backoff formula of the server and the browser SDK (pure: the browser bundles import it too).
 * Callers sleep the delay themselves, so tests pass their own `jitter` and sleep and never wait.
 */

/**
 * The delay before retry `attempt`: `baseMs · 2^attempt`, capped at `maxMs`, times `jitter()` (a value
 * in [0, 1]). The default is full jitter, a random delay in [0, cap).
 */
export const backoffDelay = (
  attempt: number,
  baseMs: number,
  maxMs = Number.POSITIVE_INFINITY,
  jitter: () => number = Math.random,
): number => jitter() * Math.min(maxMs, baseMs * 2 ** attempt);

/** No jitter: the capped exponential delay itself. */
export const noJitter = (): number => 1;

/** Equal jitter: a random delay in [cap / 2, cap), never much shorter than the cap. */
export const equalJitter = (): number => 0.5 + Math.random() / 2;
