/**
 * The HTTP fallback: polls of GET /v1/chats/{chatId}/events (messages after `after`, the event log
 * after `afterEvent`, typing and presence after `since`) and of GET /v1/chats/changes (live lists),
 * each passing back the cursors the server returned. Short polls paced by the server's `nextPollMs`
 * (sooner while a chat is active) unless `pollWaitSeconds` asks for long polls; a long poll the server
 * answered at once because the caller holds too many (`longPollRefused`) waits `nextPollMs` like a short
 * poll before the next one. Failures back off with full jitter.
 */
import { backoffDelay, sleep } from './backoff.ts';
import { chatPath, type Request } from './delivery.ts';
import { query } from './http.ts';
import type { AnyEnvelope, Chat, Timing } from './types.ts';

/** Where a chat's polls (and a socket's view of it) have got to. */
export interface Cursor {
  after: number;
  afterEvent?: number;
  since?: string;
}

export interface PollDeps {
  request: Request;
  timing: Timing;
  envelope(envelope: AnyEnvelope): void;
  /** A poll answered (`true`) or failed (`false`). */
  health(ok: boolean, error?: unknown): void;
}

interface EventsPage {
  items: AnyEnvelope[];
  nextAfter: number;
  nextAfterEvent: number;
  nextSince?: string;
  hasMore: boolean;
  nextPollMs?: number;
  longPollRefused?: boolean;
}

/** What a poll says about the next one: at once (`more`), or after `nextPollMs` (the server's pace). */
export interface PollOutcome {
  more: boolean;
  nextPollMs?: number;
  /** The server did not wait (too many long polls of this caller): pace the next one like a short poll. */
  refused?: boolean;
}

const outcome = (page: {
  hasMore: boolean;
  nextPollMs?: number;
  longPollRefused?: boolean;
}): PollOutcome => ({
  more: page.hasMore,
  ...(typeof page.nextPollMs === 'number' ? { nextPollMs: page.nextPollMs } : {}),
  ...(page.longPollRefused === true ? { refused: true } : {}),
});

const max = (a: number | undefined, b: number | undefined): number => Math.max(a ?? 0, b ?? 0);

/** One poll of a chat's events. */
export const pollChatOnce = async (
  chatId: string,
  cursor: Cursor,
  waitSeconds: number,
  deps: PollDeps,
  signal?: AbortSignal,
): Promise<PollOutcome> => {
  const options = { signal, timeoutMs: deps.timing.requestTimeoutMs + waitSeconds * 1000 };
  if (cursor.afterEvent === undefined) {
    // Never seen an event of this chat: start from its current event log position.
    const chat = await deps.request<Chat>('GET', chatPath(chatId), undefined, options);
    cursor.afterEvent ??= chat.lastEventSeq ?? 0;
  }
  const { after, afterEvent } = cursor;
  const page = await deps.request<EventsPage>(
    'GET',
    `${chatPath(chatId)}/events${query({ after, afterEvent, waitSeconds, since: cursor.since || undefined })}`,
    undefined,
    options,
  );
  cursor.after = max(cursor.after, page.nextAfter);
  cursor.afterEvent = max(cursor.afterEvent, page.nextAfterEvent);
  if (page.nextSince) cursor.since = page.nextSince;
  for (const envelope of page.items) deps.envelope(envelope);
  return outcome(page);
};

/** One poll of the live list's changes. */
export const pollChangesOnce = async (
  filter: Record<string, string>,
  cursor: { since?: string },
  waitSeconds: number,
  deps: PollDeps,
  signal?: AbortSignal,
): Promise<PollOutcome> => {
  const page = await deps.request<{
    items: AnyEnvelope[];
    nextSince: string;
    hasMore: boolean;
    nextPollMs?: number;
    longPollRefused?: boolean;
  }>(
    'GET',
    `/v1/chats/changes${query({ ...filter, waitSeconds, since: cursor.since || filter.since })}`,
    undefined,
    { signal, timeoutMs: deps.timing.requestTimeoutMs + waitSeconds * 1000 },
  );
  cursor.since = page.nextSince;
  for (const envelope of page.items) deps.envelope(envelope);
  return outcome(page);
};

/** The longest pause between two polls, whatever a server says. */
const MAX_POLL_PAUSE_MS = 60_000;

/**
 * Polls until `signal` aborts: the first poll returns at once (it is also a catch-up); with
 * pollWaitSeconds 0 (the default) the next one follows after the server's `nextPollMs` (or
 * minBackoffMs), otherwise it long-polls up to pollWaitSeconds; a failure waits a backoff delay.
 */
export const pollLoop = async (
  once: (waitSeconds: number, signal: AbortSignal) => Promise<PollOutcome>,
  deps: PollDeps,
  signal: AbortSignal,
): Promise<void> => {
  const { minBackoffMs, maxBackoffMs, pollWaitSeconds } = deps.timing;
  let wait = 0;
  for (let attempt = 0; !signal.aborted;) {
    try {
      const { more, nextPollMs, refused } = await once(wait, signal);
      if (signal.aborted) return;
      attempt = 0;
      deps.health(true);
      if (!more && (pollWaitSeconds === 0 || refused)) {
        const pause = Math.min(MAX_POLL_PAUSE_MS, Math.max(minBackoffMs, nextPollMs ?? minBackoffMs));
        await sleep(pause, signal).catch(() => {});
      }
      wait = more ? 0 : pollWaitSeconds;
    } catch (error) {
      if (signal.aborted) return;
      deps.health(false, error);
      await sleep(backoffDelay(attempt++, minBackoffMs, maxBackoffMs), signal).catch(() => {});
    }
  }
};
