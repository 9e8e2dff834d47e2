/**
 * How the local cloud paces its stream poller (infra/local/stream-poller.ts), by `streamPolling`:
 * - `local` (default): every 25 ms while the table is busy and at once after each handler invocation
 *   (a write pokes the poller), every 250 ms when idle, so messages arrive quickly and an idle local
 *   cloud costs DynamoDB Local little CPU; while the local cloud is overloaded (load-gauge.ts) at most
 *   one read per OVERLOADED_POLL_GAP_MS, so a storm's records come in bigger reads and the GetRecords
 *   calls saved go to the handlers;
 * - `aws`: Lambda's documented pace, "Lambda polls shards in your DynamoDB stream for records at a base
 *   rate of 4 times per second" (Lambda developer guide, "Using AWS Lambda with Amazon DynamoDB"): one
 *   read per 250 ms, busy or not, never woken by a write, so records come in the batches an event source
 *   mapping would make of them (the cost bench's per-batch lines depend on it).
 */
export const STREAM_POLLINGS = ['local', 'aws'] as const;
export type StreamPolling = (typeof STREAM_POLLINGS)[number];

/** The stream poller's least pause between reads while the local cloud is overloaded. */
export const OVERLOADED_POLL_GAP_MS = 100;
export const AWS_POLL_MS = 250;

export interface StreamPace {
  readonly pollIntervalMs: number;
  readonly idlePollIntervalMs: number;
  readonly minRoundGapMs: () => number;
  /** Whether a handler's invocation wakes the poller (it may have written). */
  readonly wokenByWrites: boolean;
}

export const streamPace = (polling: StreamPolling, overloaded: () => boolean): StreamPace =>
  polling === 'aws'
    ? {
        pollIntervalMs: AWS_POLL_MS,
        idlePollIntervalMs: AWS_POLL_MS,
        minRoundGapMs: () => AWS_POLL_MS,
        wokenByWrites: false,
      }
    : {
        pollIntervalMs: 25,
        idlePollIntervalMs: 250,
        minRoundGapMs: () => (overloaded() ? OVERLOADED_POLL_GAP_MS : 0),
        wokenByWrites: true,
      };
