/**
 * The end of a conversation: "End chat", the closed section with its rating form, the thanks once
 * rated. A message sent after the end starts a new conversation (send.ts).
 */
import type { Chat } from '../sdk/index.ts';
import { type Ctx, showError } from './context.ts';

/** Takes `chat` as the current chat's state and shows its closed section and rating as they are. */
export const showClosed = (w: Ctx, chat: Chat | undefined): void => {
  const v = w.v_;
  w.chat_ = chat;
  const closed = chat?.status === 'closed';
  v.closed_.hidden = !closed;
  v.end_.hidden = !w.chatId_ || closed;
  const rated = chat?.rating !== undefined;
  v.ratingForm_.hidden = rated;
  v.thanks_.hidden = !rated;
};

/** Closes (and rates) the chat, then focuses `next`. */
const update = async (
  w: Ctx,
  patch: { status: 'closed'; rating?: number; feedback?: string },
  next: HTMLElement | undefined,
): Promise<void> => {
  const { chatId_: chatId, client_: client } = w;
  if (!chatId || !client) return;
  try {
    const chat = await client.updateChat(chatId, patch);
    if (chatId !== w.chatId_) return; // reset or another conversation meanwhile
    showClosed(w, chat);
    next?.focus();
  } catch {
    if (chatId === w.chatId_) showError(w, w.s_.failed);
  }
};

export const endChat = (w: Ctx): Promise<void> => update(w, { status: 'closed' }, w.v_.ratingInputs_[0]);

export const rate = (w: Ctx): Promise<void> => {
  const v = w.v_;
  const rating = Number(v.ratingInputs_.find((input) => input.checked)?.value);
  const feedback = v.feedback_.value.trim();
  if (!rating) return Promise.resolve();
  return update(w, { status: 'closed', rating, ...(feedback ? { feedback } : {}) }, v.newChat_);
};
