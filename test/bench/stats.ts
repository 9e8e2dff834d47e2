/**
 * Nearest-rank percentiles and the median of a series, and the rounding every figure of the report goes
 * through: the bench's one home for these (lists.ts and cold.ts use them too).
 */

export interface Stats {
  readonly count: number;
  readonly min: number;
  readonly mean: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

/** The nearest-rank percentile `p` (0 to 100) of values sorted ascending; NaN for none. */
export const percentile = (sorted: readonly number[], p: number): number =>
  sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/** The median: the middle value, or the mean of the two middle ones; NaN for none. */
export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? NaN)
    : ((sorted[middle - 1] ?? NaN) + (sorted[middle] ?? NaN)) / 2;
};

/** Nearest-rank percentiles. */
export const stats = (values: readonly number[]): Stats => {
  if (values.length === 0) return { count: 0, min: 0, mean: 0, p50: 0, p95: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => percentile(sorted, p);
  return {
    count: sorted.length,
    min: round(sorted[0] ?? 0),
    mean: round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length),
    p50: round(rank(50)),
    p95: round(rank(95)),
    p99: round(rank(99)),
    max: round(sorted[sorted.length - 1] ?? 0),
  };
};

/** `count` events over `ms` milliseconds, per second (0 over an empty window). */
export const perSecond = (count: number, ms: number): number => (ms > 0 ? round((count / ms) * 1000, 1) : 0);
