/**
 * Unread messages and read receipts: the launcher's badge, the tab title's "(n)" prefix, the host's
 * `unread` event, the visitor's read position (marked while the panel is open and the page seen), the
 * team's read ticks, and browser notifications of messages that arrive while the page is hidden (a
 * mention of the visitor as soon as it comes, before its message).
 */
import type { ChatEvents, Message } from '../sdk/index.ts';
import { type Ctx, noop } from './context.ts';
import { fill } from './dom.ts';
import { senderName, setTick } from './messages.ts';
import { open } from './panel.ts';

const TITLE_PREFIX = /^\(\d+\) /;

export const refreshUnread = (w: Ctx): void => {
  const { v_: v, chatId_: chatId, client_: client } = w;
  let count = 0;
  let last = 0;
  for (const { m } of [...w.items_.values(), ...w.mentioned_.values()]) {
    last = Math.max(last, m.seq);
    if (m.senderId !== w.visitorId_ && m.seq > w.readSeq_) count++;
  }
  if (count && w.isOpen_ && !document.hidden && chatId && client) {
    w.readSeq_ = last;
    count = 0;
    void client.markRead(chatId, last).catch(noop);
  }
  if (count !== w.unreadCount_) {
    w.unreadCount_ = count;
    w.emit_('unread', count);
  }
  v.badge_.textContent = String(count);
  v.badge_.hidden = !count || !!w.isOpen_;
  v.unread_.textContent = count ? fill(w.s_.unread, { n: count }) : '';
  if (document.hidden && count) {
    if (w.baseTitle_ === undefined || !TITLE_PREFIX.test(document.title)) w.baseTitle_ = document.title;
    document.title = `(${count}) ${w.baseTitle_}`;
  } else if (w.baseTitle_ !== undefined) {
    if (TITLE_PREFIX.test(document.title)) document.title = w.baseTitle_;
    w.baseTitle_ = undefined;
  }
};

/**
 * A `mention` of the visitor (pushed to all its sockets, maybe before the message): unread and notified
 * like the message itself, which then counts and notifies nothing more.
 */
export const onMention = (w: Ctx, m: Message): void => {
  if (m.chatId !== w.chatId_ || m.seq <= w.liveAfter_ || w.items_.has(m.seq) || w.mentioned_.has(m.seq))
    return;
  w.mentioned_.set(m.seq, { m });
  notify(w, m);
  refreshUnread(w);
};

/** The visitor's own receipt (another tab read) or the team's (read ticks). */
export const onReceipt = (w: Ctx, r: ChatEvents['receipt']): void => {
  if (r.chatId !== w.chatId_) return;
  if (r.userId === w.visitorId_) {
    w.readSeq_ = Math.max(w.readSeq_, r.seq);
    refreshUnread(w);
  } else if (r.seq > w.theirReadSeq_) {
    w.theirReadSeq_ = r.seq;
    for (const { m, li } of w.items_.values())
      if (m.senderId === w.visitorId_) setTick(li, m.seq <= r.seq ? 'read' : 'sent', w.s_);
  }
};

const notifications = (w: Ctx): boolean => w.o_.notifications !== false && 'Notification' in window;

/** Asks for notification permission: only ever called from the visitor's own gesture (sending). */
export const askNotifications = (w: Ctx): void => {
  if (notifications(w) && Notification.permission === 'default')
    void Promise.resolve(Notification.requestPermission()).catch(noop);
};

export const notify = (w: Ctx, m: Message): void => {
  if (!document.hidden || !notifications(w) || Notification.permission !== 'granted') return;
  try {
    const n = new Notification(senderName(m, w.s_), {
      body: (m.text || m.attachment?.fileName || w.s_.notification).slice(0, 200),
      tag: `chat-widget:${m.chatId}`,
    });
    n.onclick = () => {
      window.focus();
      open(w);
      n.close();
    };
  } catch {
    // some browsers only notify from a service worker
  }
};
