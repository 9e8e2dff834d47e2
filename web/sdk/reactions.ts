/**
 * Replies and reactions on the client: pure functions that give the next copy of a message shown.
 *
 * A reaction change (a `reaction` event, or the answer of react() / unreact()) carries the message's
 * counts after it. Whether this user is among an emoji's reactors (`mine`) comes from the change when
 * it is this user's, otherwise from the copy shown: the envelope is the same for every subscriber and
 * has no `mine`. Changes of one message may arrive out of order: given the caller's `versions`, one
 * whose version is not above the last applied for its message changes nothing.
 *
 *   const versions = new Map<string, number>();
 *   client.on('reaction', (change) => show(applyReaction(shown(change.seq), change, me, versions)));
 *   show(applyReaction(shown(seq), await client.react(chatId, messageId, '👍'), me, versions));
 */
import type { Message, ReactionChange } from './types.ts';

/** The quick reactions the widget and the console offer (fully-qualified emoji: "❤️" ends in U+FE0F). */
export const QUICK_REACTIONS: readonly string[] = ['👍', '❤️', '😂', '😮', '😢', '🙏'];

const mineOf = (message: Message | undefined): Map<string, boolean> =>
  new Map(message?.reactions?.map((r) => [r.emoji, r.mine === true]));

/**
 * `message` with the reactions after `change` (the same object when the change is not for it, or when
 * `versions` already holds a version as high). `versions` (messageId → last version applied) is the
 * caller's, updated here; without it every change applies.
 */
export const applyReaction = (
  message: Message,
  change: ReactionChange,
  selfUserId: string | undefined,
  versions?: Map<string, number>,
): Message => {
  if (change.messageId !== message.messageId) return message;
  if (versions) {
    if (change.version <= (versions.get(change.messageId) ?? -1)) return message;
    versions.set(change.messageId, change.version);
  }
  const self = change.userId === selfUserId;
  const before = mineOf(message);
  return {
    ...message,
    reactions: change.reactions.map(({ emoji, count, mine }) => ({
      emoji,
      count,
      mine: self
        ? emoji === change.emoji
          ? change.reacted
          : (mine ?? before.get(emoji) === true)
        : before.get(emoji) === true,
    })),
  };
};

/**
 * A newer copy of a message shown (`messageUpdated`: an edit, a delete, a new reply count). Its
 * reactions, the same for every subscriber, carry no `mine`: that stays as shown; so do the reactions
 * shown when the copy has none.
 */
export const applyUpdate = (shown: Message | undefined, next: Message): Message => {
  const before = mineOf(shown);
  const reactions = next.reactions ?? shown?.reactions;
  if (!reactions) return next;
  return {
    ...next,
    reactions: reactions.map((r) => ({ ...r, mine: r.mine ?? before.get(r.emoji) === true })),
  };
};

/** A reply shown whose quoted message was deleted: its quote without the text (else the reply itself). */
export const applyParentDeleted = (reply: Message, parent: Message): Message => {
  const quote = reply.replyTo;
  if (!parent.deletedAt || quote?.messageId !== parent.messageId || quote.deleted) return reply;
  const { text: _text, ...rest } = quote;
  return { ...reply, replyTo: { ...rest, deleted: true } };
};
