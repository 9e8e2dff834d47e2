/**
 * The conversation log: messages in seq order (each once, replaced when edited or deleted), the
 * visitor's messages still in the outbox after them, and older pages on "Load earlier".
 */
import type { Message } from '../sdk/index.ts';
import { type Ctx, PAGE, scrollToEnd, showError, showGreeting } from './context.ts';
import { messageItem, pendingItem, setTick } from './messages.ts';
import { showTyping } from './typing.ts';
import { notify, refreshUnread } from './unread.ts';

export const onMessage = (w: Ctx, m: Message): void => {
  if (m.chatId !== w.chatId_) return;
  if (w.items_.get(m.seq)?.m.messageId === m.messageId) return;
  // Its mention came first: counted and notified then.
  const early = w.mentioned_.delete(m.seq);
  put(w, m);
  w.emit_('message', m);
  if (m.senderId !== w.visitorId_ && m.seq > w.liveAfter_) {
    showTyping(w, undefined, 0);
    if (!early) notify(w, m);
  }
  refreshUnread(w);
};

/** Shows a message in seq order (or replaces its item), replacing its outbox item. */
export const put = (w: Ctx, m: Message, previous?: { li: HTMLLIElement }): void => {
  const { v_: v, pending_: pending } = w;
  const mine = m.senderId === w.visitorId_;
  const li = messageItem(m, w.ic_);
  if (mine && m.seq <= w.theirReadSeq_) setTick(li, 'read', w.s_);
  const sc = v.scroller_;
  const stick = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 80 || mine;
  const focused = v.root_.activeElement as HTMLElement | null;
  if (previous) {
    previous.li.replaceWith(li);
    // A control of the redrawn item had the focus (e.g. a reaction just toggled): its new self gets it.
    if (focused && previous.li.contains(focused))
      li.querySelector<HTMLElement>(`[data-f="${focused.dataset.f}"]`)?.focus();
  } else {
    pending.get(m.clientMessageId)?.remove();
    pending.delete(m.clientMessageId);
    let next: Element | null = v.list_.firstElementChild;
    while (next && Number((next as HTMLElement).dataset.seq ?? Infinity) < m.seq)
      next = next.nextElementSibling;
    v.list_.insertBefore(li, next);
  }
  w.items_.set(m.seq, { m, li });
  showGreeting(w);
  if (stick && !previous) scrollToEnd(w);
};

/** The visitor's messages not yet acknowledged, after the stored ones. */
export const renderPending = (w: Ctx): void => {
  const { client_: client, chatId_: chatId, pending_: pending } = w;
  if (!client || !chatId) return;
  const delivered = new Set([...w.items_.values()].map(({ m }) => m.clientMessageId));
  const entries = client.pending(chatId).filter((entry) => !delivered.has(entry.clientMessageId));
  const keep = new Set(entries.map((entry) => entry.clientMessageId));
  for (const [id, li] of pending)
    if (!keep.has(id)) {
      li.remove();
      pending.delete(id);
    }
  for (const entry of entries)
    if (!pending.has(entry.clientMessageId)) {
      const li = pendingItem(entry, w.ic_);
      pending.set(entry.clientMessageId, li);
      w.v_.list_.append(li);
      scrollToEnd(w);
    }
  showGreeting(w);
};

/** The page of history before the oldest message shown, keeping the scroll position. */
export const loadEarlier = async (w: Ctx): Promise<void> => {
  const { v_: v, client_: client, chatId_: chatId, oldest_: before } = w;
  if (w.loading_ || before <= 1 || !client || !chatId) return;
  w.loading_ = true;
  try {
    const older = await client.history(chatId, { before, limit: PAGE });
    if (chatId !== w.chatId_) return;
    const height = v.scroller_.scrollHeight;
    for (const m of older) if (!w.items_.has(m.seq)) put(w, m);
    w.oldest_ = older.length < PAGE ? 1 : Math.min(before, ...older.map((m) => m.seq));
    v.more_.hidden = w.oldest_ <= 1;
    v.scroller_.scrollTop += v.scroller_.scrollHeight - height;
  } catch {
    showError(w, w.s_.failed);
  } finally {
    w.loading_ = false;
  }
};
