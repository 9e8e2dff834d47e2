/**
 * Reactions: one per user and emoji on a message (adding twice or taking back twice changes nothing),
 * at most REACTIONS_MAX_DISTINCT emoji per message. A change rewrites only the message's small reactions
 * record (optimistic on its version), never the message; the record's stream record becomes the
 * `reaction` envelope for sockets (the fan-out) and the same envelope is kept for pollers (`since`).
 */
import { authorizeChat, messageById } from './access.ts';
import { backoffDelay } from './backoff.ts';
import { BusyError, ConflictError } from './errors.ts';
import type { Identity } from './identity.ts';
import type { ChatStore, Clock, MessageStore, ReactionRecord, ReactionStore } from './ports.ts';
import { type Envelope, type ReactionChange, type ReactionCount, REACTIONS_MAX_DISTINCT } from './schemas.ts';

export type ReactionEnvelope = Extract<Envelope, { type: 'reaction' }>;

/** Optimistic attempts of one change before 503 busy (many people reacting to one message at once). */
const ATTEMPTS = 8;

/** Counts per emoji, first reacted first; with `viewerId`, whether the viewer is among each. */
export const reactionCounts = (record: Pick<ReactionRecord, 'entries'>, viewerId?: string): ReactionCount[] =>
  record.entries
    .filter((entry) => entry.users.length > 0)
    .map((entry) => ({
      emoji: entry.emoji,
      count: entry.users.length,
      ...(viewerId === undefined ? {} : { mine: entry.users.includes(viewerId) }),
    }));

/** A stored record as plain attributes (the table item, or a stream record's NewImage) → the record. */
export const reactionRecordOf = (item: Record<string, unknown>): ReactionRecord => ({
  chatId: item.chatId as string,
  tenantId: item.tenantId as string,
  seq: Number(item.seq),
  messageId: item.messageId as string,
  entries: (item.entries as ReactionRecord['entries'] | undefined) ?? [],
  version: Number(item.version ?? 0),
  ...(item.last ? { last: item.last as NonNullable<ReactionRecord['last']> } : {}),
});

/** The envelope of a record's last change: the same for every socket and poller (no `mine`). */
export const reactionEnvelope = (record: ReactionRecord): ReactionEnvelope | undefined => {
  const last = record.last;
  if (!last) return undefined;
  return {
    type: 'reaction',
    id: `${record.chatId}:reaction:${record.seq}:${record.version}`,
    tenantId: record.tenantId,
    chatId: record.chatId,
    at: last.at,
    data: {
      messageId: record.messageId,
      seq: record.seq,
      userId: last.userId,
      emoji: last.emoji,
      reacted: last.reacted,
      reactions: reactionCounts(record),
      version: record.version,
    },
  };
};

/** The entries after `userId` adds (or takes back) `emoji`; undefined when that changes nothing. */
export const withReaction = (
  entries: ReactionRecord['entries'],
  userId: string,
  emoji: string,
  reacted: boolean,
): ReactionRecord['entries'] | undefined => {
  const entry = entries.find((candidate) => candidate.emoji === emoji);
  if ((entry?.users.includes(userId) ?? false) === reacted) return undefined;
  if (reacted && !entry) {
    if (entries.filter((candidate) => candidate.users.length > 0).length >= REACTIONS_MAX_DISTINCT) {
      throw new ConflictError(`a message has at most ${REACTIONS_MAX_DISTINCT} different reactions`);
    }
    return [...entries, { emoji, users: [userId] }];
  }
  return entries
    .map((candidate) =>
      candidate.emoji !== emoji
        ? candidate
        : {
            emoji,
            users: reacted ? [...candidate.users, userId] : candidate.users.filter((user) => user !== userId),
          },
    )
    .filter((candidate) => candidate.users.length > 0);
};

export class ReactionService {
  constructor(
    private readonly chats: Pick<ChatStore, 'get' | 'isParticipant'>,
    private readonly messages: Pick<MessageStore, 'get'>,
    private readonly store: ReactionStore,
    private readonly clock: Clock,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {}

  /** Adds (`reacted`) or takes back the caller's `emoji` on a message; answers the counts after it. */
  async react(
    identity: Identity,
    chatId: string,
    messageId: string,
    emoji: string,
    reacted: boolean,
  ): Promise<ReactionChange> {
    await authorizeChat(this.chats, identity, chatId);
    const message = await messageById(this.messages, chatId, messageId);
    if (message.deletedAt) throw new ConflictError('the message was deleted');
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      if (attempt > 0) await this.sleep(backoffDelay(attempt, 20, 500));
      const current: ReactionRecord = (await this.store.get(chatId, message.seq)) ?? {
        chatId,
        tenantId: message.tenantId,
        seq: message.seq,
        messageId,
        entries: [],
        version: 0,
      };
      const entries = withReaction(current.entries, identity.userId, emoji, reacted);
      if (!entries) return this.answer(current, identity.userId, emoji, reacted);
      const next: ReactionRecord = {
        ...current,
        entries,
        version: current.version + 1,
        last: { userId: identity.userId, emoji, reacted, at: this.clock.now().toISOString() },
      };
      if (!(await this.store.put(next))) continue;
      const envelope = reactionEnvelope(next);
      if (envelope) await this.store.publish(envelope);
      return this.answer(next, identity.userId, emoji, reacted);
    }
    throw new BusyError('this message’s reactions are changing too often, retry');
  }

  private answer(record: ReactionRecord, userId: string, emoji: string, reacted: boolean): ReactionChange {
    return {
      messageId: record.messageId,
      seq: record.seq,
      userId,
      emoji,
      reacted,
      reactions: reactionCounts(record, userId),
      version: record.version,
    };
  }
}
