/**
 * Replies and reactions: the quote above the composer while the visitor answers a message (the next
 * message sent carries `replyTo`), the visitor's reactions (shown from the API's answer), reaction
 * changes and updates of the messages shown (a deleted message blanks the quotes of its replies).
 */
import {
  applyParentDeleted,
  applyReaction,
  applyUpdate,
  type ChatEvents,
  type Message,
} from '../sdk/index.ts';
import { type Ctx, showError } from './context.ts';
import { fill } from './dom.ts';
import { put } from './log.ts';
import { senderName } from './messages.ts';

/** Answers `m` with the next message sent (undefined: no more). */
export const setReply = (w: Ctx, m?: Message): void => {
  const { v_: v, s_: s } = w;
  w.replyTo_ = m;
  v.replyBar_.hidden = !m;
  if (m)
    v.replyText_.textContent = `${fill(s.replying, {
      name: m.senderId === w.visitorId_ ? s.you : senderName(m, s),
    })}: ${m.text || m.attachment?.fileName || ''}`;
};

export const onReaction = (w: Ctx, change: ChatEvents['reaction']): void => {
  const item = change.chatId === w.chatId_ ? w.items_.get(change.seq) : undefined;
  const next = item && applyReaction(item.m, change, w.visitorId_, w.versions_);
  if (item && next !== item.m) put(w, next!, item);
};

/** Adds (`on`) or takes back the visitor's reaction to `m`. */
export const react = async (w: Ctx, m: Message, emoji: string, on: boolean): Promise<void> => {
  const { client_: c, chatId_: chatId } = w;
  if (!c || chatId !== m.chatId) return;
  try {
    const change = await (on ? c.react : c.unreact).call(c, chatId, m.messageId, emoji);
    onReaction(w, { ...change, chatId });
  } catch {
    showError(w, w.s_.failed);
  }
};

/** An edited or deleted message (or a new reply count): redrawn, and the quotes of it blanked if deleted. */
export const onUpdated = (w: Ctx, m: Message): void => {
  if (m.chatId !== w.chatId_) return;
  for (const item of w.items_.values()) {
    const next = item.m.seq === m.seq ? applyUpdate(item.m, m) : applyParentDeleted(item.m, m);
    if (next !== item.m) put(w, next, item);
  }
  if (m.deletedAt && w.replyTo_?.messageId === m.messageId) setReply(w);
};
