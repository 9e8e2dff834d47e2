/**
 * Local only: whether the local cloud can take more work, so the HTTP gateway can refuse new connections
 * (their tickets) while it cannot.
 *
 * On AWS every invocation has its own execution environment. Here every handler, both gateways and the
 * stream poller share one event loop, one DynamoDB Local and two cores. When a reconnect storm offers
 * more than that can do, everything admitted slows down together: upgrades outlast the client's open
 * timeout, the client gives up, and the work already done for it (ticket, `$connect`, its `$disconnect`)
 * is wasted while its retry adds more — a storm of 1,000 sockets then brought back anywhere from 92 to
 * 860 within 60 s. Refusing a new connection at its ticket with 429, API Gateway's answer to requests over
 * its throttle, costs nothing downstream; the client backs off and retries, and what was admitted
 * finishes in time.
 *
 * Overloaded means either of:
 *  - `maxInFlight` handler invocations running at once (long polls, which mostly wait, are not counted):
 *    the work admitted is queueing for DynamoDB Local or the event loop;
 *  - the event loop falling behind: a timer that should fire every `intervalMs` came `thresholdMs` or
 *    more late at least `minLateTicks` times in the last `windowMs` (one pause, such as a garbage
 *    collection, does not count).
 */
export interface LoadGauge {
  /** Counts an invocation as running until the returned function is called. */
  invocation(): () => void;
  overloaded(): boolean;
  stop(): void;
}

export interface LoadGaugeOptions {
  /** Default 32. */
  readonly maxInFlight?: number;
  /** Default 250 ms. */
  readonly thresholdMs?: number;
  /** Default 20 ms. */
  readonly intervalMs?: number;
  /** Default 2,000 ms. */
  readonly windowMs?: number;
  /** Default 2. */
  readonly minLateTicks?: number;
  /** For tests; default `performance.now()`. */
  readonly now?: () => number;
}

export const startLoadGauge = (options: LoadGaugeOptions = {}): LoadGauge => {
  const maxInFlight = options.maxInFlight ?? 32;
  const thresholdMs = options.thresholdMs ?? 250;
  const intervalMs = options.intervalMs ?? 20;
  const windowMs = options.windowMs ?? 2_000;
  const minLateTicks = options.minLateTicks ?? 2;
  const now = options.now ?? (() => performance.now());
  let running = 0;
  /** When the window's late ticks fired. */
  const late: number[] = [];
  let last = now();
  const lateTicks = (): number => {
    const since = now() - windowMs;
    while (late.length > 0 && (late[0] ?? since) < since) late.shift();
    return late.length;
  };
  const timer = setInterval(() => {
    const at = now();
    if (at - last - intervalMs >= thresholdMs) late.push(at);
    last = at;
  }, intervalMs);
  timer.unref();
  return {
    invocation: () => {
      running += 1;
      let ended = false;
      return () => {
        if (ended) return;
        ended = true;
        running -= 1;
      };
    },
    overloaded: () => running >= maxInFlight || lateTicks() >= minLateTicks,
    stop: () => clearInterval(timer),
  };
};
