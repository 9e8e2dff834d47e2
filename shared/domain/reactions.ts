/**
 * Reactions: one per user and emoji on a message (adding twice or taking back twice changes nothing),
 * at most REACTIONS_MAX_DISTINCT emoji per message. A change is one atomic write of the message's small
 * reactions record (shared/adapters/dynamo/reaction-store.ts), never of the message; the record's stream
 * record becomes the `reaction` envelope for sockets (the fan-out) and the same envelope is kept for
 * pollers (`since`).
 */
import { authorizeChat, messageById } from './access.ts';
import { ConflictError } from './errors.ts';
import type { Identity } from './identity.ts';
import type {
  AppendOptions,
  ChatStore,
  Clock,
  MessageStore,
  ReactionRecord,
  ReactionStore,
} from './ports.ts';
import { type Envelope, type ReactionChange, type ReactionCount, REACTIONS_MAX_DISTINCT } from './schemas.ts';

export type ReactionEnvelope = Extract<Envelope, { type: 'reaction' }>;

/** Counts per emoji, first reacted first; with `viewerId`, whether the viewer is among each. */
export const reactionCounts = (record: Pick<ReactionRecord, 'entries'>, viewerId?: string): ReactionCount[] =>
  record.entries
    .filter((entry) => entry.users.length > 0)
    .map((entry) => ({
      emoji: entry.emoji,
      count: entry.users.length,
      ...(viewerId === undefined ? {} : { mine: entry.users.includes(viewerId) }),
    }));

/**
 * A stored record as plain attributes (the table item, or a stream record's NewImage, unmarshalled) →
 * the record: each emoji's users are the set `u:<emoji>`, ordered by when the emoji was first used
 * (`f:<emoji>`).
 */
export const reactionRecordOf = (item: Record<string, unknown>): ReactionRecord => {
  const entries = Object.entries(item)
    .filter(([name, value]) => name.startsWith('u:') && (value instanceof Set || Array.isArray(value)))
    .map(([name, value]) => ({
      emoji: name.slice(2),
      users: [...(value as Iterable<string>)].sort(),
      first: String(item[`f:${name.slice(2)}`] ?? ''),
    }))
    .filter((entry) => entry.users.length > 0)
    .sort((a, b) => a.first.localeCompare(b.first) || a.emoji.localeCompare(b.emoji))
    .map(({ emoji, users }) => ({ emoji, users }));
  return {
    chatId: item.chatId as string,
    tenantId: item.tenantId as string,
    seq: Number(item.seq),
    messageId: item.messageId as string,
    entries,
    version: Number(item.version ?? 0),
    ...(item.last ? { last: item.last as NonNullable<ReactionRecord['last']> } : {}),
  };
};

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

export class ReactionService {
  constructor(
    private readonly chats: Pick<ChatStore, 'access'>,
    private readonly messages: Pick<MessageStore, 'get'>,
    private readonly store: ReactionStore,
    private readonly clock: Clock,
  ) {}

  /** Adds (`reacted`) or takes back the caller's `emoji` on a message; answers the counts after it. */
  async react(
    identity: Identity,
    chatId: string,
    messageId: string,
    emoji: string,
    reacted: boolean,
    options: AppendOptions = {},
  ): Promise<ReactionChange> {
    await authorizeChat(this.chats, identity, chatId);
    const message = await messageById(this.messages, chatId, messageId);
    if (message.deletedAt) throw new ConflictError('the message was deleted');
    const result = await this.store.change(
      { chatId, tenantId: message.tenantId, seq: message.seq, messageId },
      {
        userId: identity.userId,
        emoji,
        reacted,
        at: this.clock.now().toISOString(),
        ...(options.viaConnectionId ? { viaConnectionId: options.viaConnectionId } : {}),
      },
      REACTIONS_MAX_DISTINCT,
    );
    if (result === 'full') {
      throw new ConflictError(`a message has at most ${REACTIONS_MAX_DISTINCT} different reactions`);
    }
    const envelope = result.changed ? reactionEnvelope(result.record) : undefined;
    if (envelope) await this.store.publish(envelope);
    return this.answer(result.record, identity.userId, emoji, reacted);
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
