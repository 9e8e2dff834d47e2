/**
 * The reconnect storm: every socket dropped at once (the TCP connection cut, as when a network or a
 * gateway goes away), each reconnecting as the browser SDK does after losing a live socket — wait the
 * SDK's jittered backoff (web/sdk/backoff.ts, its default timing), ticket, upgrade, subscribe, catch up
 * with `after=`; a refused or failed attempt waits the next, longer, backoff. A socket counts as back
 * when it is open, subscribed and caught up to the seq its subscribe ack named — from then on it is live,
 * as the SDK counts it. One message per chat is sent while the sockets are down or coming back: once
 * that round is stored, every socket must hold it (caught up, or pushed live after it subscribed).
 */
import { backoffDelay } from '../../web/sdk/backoff.ts';
import { DEFAULT_TIMING } from '../../web/sdk/client.ts';
import { type Chat, sendRound, waitFor } from './checks.ts';
import { type Http, OpenError, type SoakSocket } from './fleet.ts';

export interface StormResult {
  readonly sockets: number;
  /** Sockets back (open, subscribed, caught up) within the deadline. */
  readonly back: number;
  /** From the drop to the last socket back; undefined if some never came back in time. */
  readonly allBackMs: number | undefined;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** `$connect` refusals with a 5xx (the upgrade answered 500, 502, 503, 504). */
  readonly connect5xx: number;
  /** Ticket requests answered 5xx. */
  readonly ticket5xx: number;
  /** Every other failed attempt (timeouts, 4xx, a subscribe that failed), each retried. */
  readonly otherFailures: number;
  readonly attempts: number;
  /** Why attempts failed, by reason (the most frequent first in the report). */
  readonly reasons: Readonly<Record<string, number>>;
  /** From the drop until the storm's round (one message per chat, over HTTP) was stored. */
  readonly roundStoredMs: number;
  /** The round's messages a socket that is back still lacks (after waiting for their pushes). */
  readonly roundMissing: number;
}

const percentile = (sorted: readonly number[], p: number): number =>
  sorted.length === 0
    ? 0
    : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0);

export const storm = async (
  api: Http,
  sockets: readonly SoakSocket[],
  chats: readonly Chat[],
  deadlineMs: number,
  timing = { minBackoffMs: DEFAULT_TIMING.minBackoffMs, maxBackoffMs: DEFAULT_TIMING.maxBackoffMs },
): Promise<StormResult> => {
  let connect5xx = 0;
  let ticket5xx = 0;
  let otherFailures = 0;
  let attempts = 0;
  const reasons: Record<string, number> = {};
  await Promise.all(sockets.map((socket) => socket.close(true)));
  const droppedAt = Date.now();
  // Sent while every socket is down (or coming back): each must end up holding it. A chat whose message
  // could not be stored counts as missing on every socket of it (no seq 0 is ever held).
  let roundStoredMs = 0;
  const sent = sendRound(api, chats, 'storm')
    .catch((error: unknown) => {
      reasons[`storm round not sent: ${String(error).slice(0, 60)}`] = 1;
      return new Map<string, number>();
    })
    .finally(() => {
      roundStoredMs = Date.now() - droppedAt;
    });
  // Retries stop a while after the deadline: a socket still out then counts as not back.
  const giveUpAt = droppedAt + deadlineMs * 2;
  const times = await Promise.all(
    sockets.map(async (socket) => {
      // The storm holds the socket: a server close meanwhile is its retry's business.
      socket.busy = true;
      try {
        return await comeBack(socket);
      } finally {
        socket.busy = false;
      }
    }),
  );
  async function comeBack(socket: SoakSocket): Promise<number | undefined> {
    for (let attempt = 0; Date.now() < giveUpAt;) {
      await new Promise((resolve) =>
        setTimeout(resolve, backoffDelay(attempt++, timing.minBackoffMs, timing.maxBackoffMs)),
      );
      attempts += 1;
      try {
        await socket.connect(api);
        await socket.subscribeAndCatchUp(api);
        return Date.now() - droppedAt;
      } catch (error) {
        const status = error instanceof OpenError ? error.status : 0;
        if (error instanceof OpenError && error.stage === 'upgrade' && status >= 500) connect5xx += 1;
        else if (error instanceof OpenError && error.stage === 'ticket' && status >= 500) ticket5xx += 1;
        else otherFailures += 1;
        const reason = String(error instanceof Error ? error.message : error).slice(0, 80);
        reasons[reason] = (reasons[reason] ?? 0) + 1;
        if (socket.open) await socket.close(true);
      }
    }
    return undefined;
  }
  const seqs = await sent;
  // Every socket that came back holds the round: messages stored before its subscribe by its
  // catch-up, the others by their live push (or, if the server closed it meanwhile, its catch-up on
  // coming back again).
  const lacking = () =>
    sockets.reduce(
      (sum, socket, index) =>
        times[index] === undefined
          ? sum
          : sum +
            socket.chatIds.filter((chatId) => !socket.held.get(chatId)?.has(seqs.get(chatId) ?? 0)).length,
      0,
    );
  await waitFor(() => lacking() === 0, 30_000);
  const backTimes = times.filter((time): time is number => time !== undefined && time <= deadlineMs);
  const sorted = [...backTimes].sort((a, b) => a - b);
  return {
    sockets: sockets.length,
    back: backTimes.length,
    allBackMs: backTimes.length === sockets.length ? sorted.at(-1) : undefined,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    connect5xx,
    ticket5xx,
    otherFailures,
    attempts,
    reasons,
    roundStoredMs,
    roundMissing: lacking(),
  };
};
