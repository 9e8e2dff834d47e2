/**
 * Typing indicators: the visitor's (sent at most every 3 s while they type, stopped after 4 s without
 * input, on send and on close) and the team's ("Ann is typing…" until it expires or a message comes).
 */
import { type Ctx, noop } from './context.ts';
import { fill } from './dom.ts';
import { senderName } from './messages.ts';

const send = (w: Ctx, isTyping: boolean): void => {
  if (w.chatId_ && w.client_) void w.client_.typing(w.chatId_, isTyping).catch(noop);
};

const armStop = (w: Ctx): void => {
  clearTimeout(w.typingStop_);
  w.typingStop_ = setTimeout(() => stopTyping(w), 4000);
};

export const startTyping = (w: Ctx): void => {
  if (w.chatId_ && w.client_ && Date.now() - w.typingSentAt_ >= 3000) {
    w.typingSentAt_ = Date.now();
    send(w, true);
  }
  armStop(w);
};

export const stopTyping = (w: Ctx): void => {
  clearTimeout(w.typingStop_);
  if (!w.typingSentAt_) return;
  w.typingSentAt_ = 0;
  send(w, false);
};

/** "Ann is typing…" for `userId` until `ms` pass, or hidden (undefined). */
export const showTyping = (w: Ctx, userId: string | undefined, ms: number): void => {
  clearTimeout(w.typingHide_);
  let name = w.s_.support;
  for (const { m } of w.items_.values()) if (m.senderId === userId) name = senderName(m, w.s_);
  w.v_.typing_.textContent = userId ? fill(w.s_.typing, { name }) : '';
  if (userId) w.typingHide_ = setTimeout(() => showTyping(w, undefined, 0), ms);
};
