/**
 * Live chat lists, for sockets and for pollers alike.
 *
 * Every change a list can show is written once, with the change itself, to the tenant's chat change
 * log: the chat's creation record and its `chat.updated` / `chat.closed` / `chat.assigned` event-log
 * entries carry the log's keys (GSI `byTenantChanges`, ordered by `at#chatId#eventSeq`). Sockets get
 * them from the stream (RealtimeService.notifyWatchers); pollers read the log
 * (GET /v1/chats/changes). Both decide what a filter shows with `listEnvelope`, so a poller receives
 * the envelopes a watching socket received, `leftFilter` included.
 *
 * The poll cursor (`since`, issued as `nextSince`) is a position in the log plus short keys of entries
 * just after it that were already handled. The position trails the read by `overlapMs`: an entry stamped
 * before a read but visible only after it (a write in flight, an index replica behind, another
 * container's clock) is still read next time, and the keys stop an entry handled once from coming again.
 */
import { type ChatFilter, matchesChat, parseListChatsQuery } from './chat-filter.ts';
import { ForbiddenError, ValidationError } from './errors.ts';
import { seenKey } from './ephemeral.ts';
import { type Identity, isStaff } from './identity.ts';
import { longPoll, type Sleep, systemPollTimer } from './long-poll.ts';
import type { ChatListChange, ChatListChangeStore, Clock } from './ports.ts';
import type { Chat, ChatRecord, Envelope } from './schemas.ts';

/** The envelope types a live chat list carries. */
export const LIST_ENVELOPE_TYPES = ['chat.created', 'chat.updated', 'chat.assigned', 'chat.closed'] as const;
export type ListEnvelopeType = (typeof LIST_ENVELOPE_TYPES)[number];
export const isListChange = (type: string): type is ListEnvelopeType =>
  (LIST_ENVELOPE_TYPES as readonly string[]).includes(type);

/** `chat.created` as watchers and pollers receive it (nobody can be subscribed to a new chat). */
export const chatCreatedEnvelope = (chat: Chat): Envelope => ({
  type: 'chat.created',
  id: `${chat.chatId}:created`,
  tenantId: chat.tenantId,
  chatId: chat.chatId,
  at: chat.createdAt,
  data: chat,
});

/**
 * What a live list with `filter` shows for one change: the envelope if the chat matches after it, the
 * envelope flagged `leftFilter: true` if it matched only before, nothing otherwise.
 */
export const listEnvelope = (
  filter: ChatFilter,
  envelope: Envelope,
  after: ChatRecord,
  before?: ChatRecord,
): Envelope | undefined => {
  if (matchesChat(after, filter)) return envelope;
  if (before && matchesChat(before, filter)) return { ...envelope, leftFilter: true };
  return undefined;
};

/**
 * The filter of a live list: the conditions of GET /v1/chats without `participant` (a list of one
 * participant is not tenant-wide) — watchChats' `filter` and the query of GET /v1/chats/changes.
 */
export const parseWatchFilter = (raw: Record<string, string>): ChatFilter => {
  const { filter } = parseListChatsQuery(raw);
  if (filter.participant !== undefined)
    throw new ValidationError('a live chat list does not take participant', [
      { path: ['participant'], message: 'not allowed here' },
    ]);
  return filter;
};

/** `since`: everything at or before `position`, and the entries of `seen` after it, are handled. */
export interface ChangeCursor {
  readonly position: string;
  readonly seen: readonly string[];
}

/** The position just after every entry stamped at or before `ms` ('~' sorts after any chat id). */
export const positionAt = (ms: number): string => `${new Date(ms).toISOString()}#~`;

const POSITION = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z(#[A-Za-z0-9_~-]{1,64}){1,2}$/;
const SEEN_KEY = /^[A-Za-z0-9_-]{8}$/;

export const formatChangeCursor = (cursor: ChangeCursor): string =>
  Buffer.from([cursor.position, ...cursor.seen].join(','), 'utf8').toString('base64url');

/** Reads a `since` issued by this endpoint; anything else is a 400. */
export const parseChangeCursor = (value: string, seenMax: number): ChangeCursor => {
  const [position = '', ...seen] = Buffer.from(value, 'base64url').toString('utf8').split(',');
  const fine =
    POSITION.test(position) &&
    !Number.isNaN(Date.parse(position.slice(0, 24))) &&
    seen.length <= seenMax &&
    seen.every((key) => SEEN_KEY.test(key));
  if (!fine)
    throw new ValidationError('invalid query', [
      { path: ['since'], message: 'not a cursor issued by this endpoint: pass back nextSince as is' },
    ]);
  return { position, seen };
};

export interface ChangeSelectConfig {
  /** How far the next position trails the read: entries newer than that are read again next time. */
  readonly overlapMs: number;
  /** At most this many keys in a cursor; more recent entries than that move the position forward. */
  readonly seenMax: number;
}

/**
 * What one read of the log gives a poller with `filter`, in log order, and the next cursor. Entries
 * up to the last one read are handled (returned or not shown by the filter); the next position is the
 * older of "`overlapMs` before the read" and the last entry read (when the read stopped at its limit).
 */
export const selectChanges = (
  read: { readonly items: readonly ChatListChange[]; readonly hasMore: boolean },
  cursor: ChangeCursor,
  readAt: number,
  filter: ChatFilter,
  config: ChangeSelectConfig,
): { items: Envelope[]; next: ChangeCursor } => {
  const seen = new Set(cursor.seen);
  const handled = read.items.map((change) => ({ change, key: seenKey(change.envelope.id) }));
  const items = handled.flatMap(({ change, key }) => {
    if (seen.has(key)) return [];
    const envelope = listEnvelope(filter, change.envelope, change.after, change.before);
    return envelope ? [envelope] : [];
  });
  const settled = positionAt(readAt - config.overlapMs);
  const last = handled.at(-1)?.change.position;
  const reached = read.hasMore && last !== undefined && last < settled ? last : settled;
  let position = reached > cursor.position ? reached : cursor.position;
  let kept = handled.filter(({ change }) => change.position > position);
  const boundary = kept[kept.length - config.seenMax - 1];
  if (boundary) {
    position = boundary.change.position;
    kept = kept.filter(({ change }) => change.position > position);
  }
  return { items, next: { position, seen: kept.map(({ key }) => key) } };
};

export interface ChatListFeedConfig extends ChangeSelectConfig {
  /** Without `since`: the changes of this last window (so a list read just before is not missed). */
  readonly windowMs: number;
  /** Log entries read per poll at most (more than `seenMax`, so every poll moves forward). */
  readonly maxRead: number;
}

export const CHAT_LIST_FEED_DEFAULTS: ChatListFeedConfig = {
  windowMs: 5_000,
  overlapMs: 5_000,
  seenMax: 100,
  maxRead: 300,
};

export interface ChangesPoll {
  readonly items: Envelope[];
  /** Pass back as `since`. */
  readonly nextSince: string;
  /** More of the log is waiting: poll again at once. */
  readonly hasMore: boolean;
}

/** GET /v1/chats/changes: a tenant's live chat list for clients without a socket (agents, services). */
export class ChatListFeed {
  constructor(
    private readonly store: ChatListChangeStore,
    private readonly clock: Clock,
    private readonly config: ChatListFeedConfig = CHAT_LIST_FEED_DEFAULTS,
    // Looked up on each call, so the wait goes through systemPollTimer like the events poll's.
    private readonly sleep: Sleep = (ms, signal) => systemPollTimer.sleep(ms, signal),
  ) {
    if (config.maxRead <= config.seenMax) throw new Error('maxRead must exceed seenMax');
  }

  /**
   * Changes matching `filter` after `since` (validated here: 400 for a cursor this endpoint did not
   * issue). With `waitSeconds`, re-reads every `intervalMs` until a change matches, time is up or
   * `signal` aborts (shared/domain/long-poll.ts).
   */
  async poll(
    identity: Identity,
    query: { filter: Record<string, string>; since?: string; waitSeconds: number },
    intervalMs: number,
    signal?: AbortSignal,
  ): Promise<ChangesPoll> {
    if (!isStaff(identity)) throw new ForbiddenError('live chat lists are for agents and services');
    const paging = ['limit', 'cursor'].filter((name) => name in query.filter);
    if (paging.length > 0)
      throw new ValidationError(
        'invalid query',
        paging.map((name) => ({ path: [name], message: 'a change feed has no pages: pass since' })),
      );
    const filter = parseWatchFilter(query.filter);
    const start = this.clock.now().getTime();
    let cursor =
      query.since === undefined
        ? { position: positionAt(start - this.config.windowMs), seen: [] }
        : parseChangeCursor(query.since, this.config.seenMax);
    const { items, hasMore } = await longPoll(
      { clock: this.clock, sleep: this.sleep },
      {
        read: async () => {
          const readAt = this.clock.now().getTime();
          const read = await this.store.changesAfter(identity.tenantId, cursor.position, this.config.maxRead);
          const { items, next } = selectChanges(read, cursor, readAt, filter, this.config);
          cursor = next;
          return { items, hasMore: read.hasMore };
        },
        found: (round) => round.items.length > 0 || round.hasMore,
        waitMs: query.waitSeconds * 1000,
        intervalMs,
        signal,
      },
    );
    return { items, nextSince: formatChangeCursor(cursor), hasMore };
  }
}
