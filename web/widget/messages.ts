/**
 * One log item per message: the visitor's own (right, with Sending… / Sent / Read ticks), the team's
 * (left, with the sender's name and initials), system messages (centred, dashed), attachments (image
 * preview, voice message player with its duration, or a download link), a reply's quote, and under a
 * message its reactions (a toggle per emoji), "Add reaction" (a few quick emoji and the emoji picker), "Reply" and its reply count; the users it mentions (from its
 * `mentions` list) in bold, and "mentions you" on one that mentions the visitor. Everything shown is
 * text or a link or control the widget made.
 */
import { type Message, type OutboxEntry, QUICK_REACTIONS, splitMentions } from '../sdk/index.ts';
import { externalLink, fill, h, initials, linkify, type Props, safeUrl } from './dom.ts';
import type { Strings } from './options.ts';
import { formatDuration, playableUrl, voiceLabel } from '../shared-ui/voice.ts';

export interface ItemContext {
  s_: Strings;
  locale_?: string | undefined;
  /** The visitor's id: their own messages sit on the right. */
  me_?: string | undefined;
  /** A short-lived download URL of an attachment. */
  attachmentUrl_: (attachmentId: string) => Promise<string>;
  /** "Reply" on a message. */
  reply_: (m: Message) => void;
  /** Adds (`on`) or takes back the visitor's reaction. */
  react_: (m: Message, emoji: string, on: boolean) => void;
  /** Opens the emoji picker in `parent` for `onPick` (undefined: closes it). */
  pick_: (opener: HTMLElement, parent: HTMLElement, onPick?: (emoji: string) => void) => void;
}

export type Tick = 'pending' | 'sent' | 'read';

/** The display name of a message's sender. */
export const senderName = (m: Message, s: Strings): string =>
  m.senderName || (m.senderRole === 'agent' ? m.senderId : s.support);

const time = (iso: string, locale?: string): string => {
  try {
    return new Date(iso).toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' });
  } catch {
    return '';
  }
};

/** Text as text; the `@userId` of each user in `mentions` (only those: never parsed from the text) in bold. */
const text = (value: string, mentions?: string[]) =>
  h(
    'p',
    { class: 't', dir: 'auto' },
    ...splitMentions(value, mentions).flatMap((p) => (p.userId ? h('b', { text: p.text }) : linkify(p.text))),
  );

const size = (bytes: number): string =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1048576
      ? `${Math.round(bytes / 1024)} KB`
      : `${(bytes / 1048576).toFixed(1)} MB`;

const attachment = (m: Message, ctx: ItemContext): HTMLElement | undefined => {
  const a = m.attachment;
  if (!a) return undefined;
  if (a.kind === 'audio') {
    // A voice message: its bytes as a blob: URL (the pages' CSP: media from 'self' and blob: only).
    const audio = h('audio', { controls: true, 'aria-label': voiceLabel(a.durationMs) });
    void ctx
      .attachmentUrl_(a.attachmentId)
      .then((url) => playableUrl(safeUrl(url) ?? ''))
      .then((src) => (audio.src = src))
      .catch(() => undefined);
    return h('p', { class: 'au' }, audio, a.durationMs ? formatDuration(a.durationMs) : '');
  }
  const link = externalLink('#', a.kind === 'image' ? '' : `📎 ${a.fileName} · ${size(a.size)}`);
  link.removeAttribute('href');
  if (a.kind === 'image') {
    const img = h('img', { alt: a.fileName, width: a.width, height: a.height, loading: 'lazy' });
    link.append(img);
  } else {
    link.setAttribute('download', a.fileName);
  }
  void ctx
    .attachmentUrl_(a.attachmentId)
    .then((url) => {
      const href = safeUrl(url);
      if (!href) return;
      link.href = href;
      link.querySelector('img')?.setAttribute('src', href);
    })
    .catch(() => undefined);
  return link;
};

const TICK_MARKS = { pending: '…', sent: '✓', read: '✓✓' };

/** Updates the delivery state shown on one of the visitor's items. */
export const setTick = (li: HTMLElement, tick: Tick, s: Strings): void => {
  if (li.dataset.state === tick) return;
  li.dataset.state = tick;
  const mark = li.querySelector('.tk');
  if (mark) mark.textContent = `${TICK_MARKS[tick]} ${s[tick === 'pending' ? 'sending' : tick]}`;
};

const meta = (mine: boolean, iso: string, ctx: ItemContext, edited?: boolean, mentioned?: boolean) =>
  h(
    'span',
    { class: 'mt' },
    h('time', { datetime: iso, text: time(iso, ctx.locale_) }),
    edited && ` · ${ctx.s_.edited}`,
    mentioned && ` · ${ctx.s_.mentionsYou}`,
    mine && ' ',
    mine && h('span', { class: 'tk' }),
  );

/** A button; `data-f` names it among its item's controls (focus stays on it when the item is redrawn). */
const button = (props: Props, label: string, onclick: () => void): HTMLButtonElement => {
  const b = h('button', { type: 'button', ...props }, label);
  b.onclick = onclick;
  return b;
};

/** Reactions (toggles), "Add reaction" (quick emoji), "Reply" and the reply count under a message. */
const actions = (m: Message, ctx: ItemContext, name: string): HTMLElement => {
  const s = ctx.s_;
  const pick = h(
    'span',
    { hidden: true },
    ...QUICK_REACTIONS.map((e) => button({ 'data-f': e }, e, () => ctx.react_(m, e, true))),
  );
  // The quick emoji and the emoji picker (below them, in the row).
  const add = button({ 'aria-label': s.react, 'aria-expanded': 'false', 'data-f': '+' }, '+', () => {
    pick.hidden = !pick.hidden;
    add.setAttribute('aria-expanded', String(!pick.hidden));
    ctx.pick_(add, row, pick.hidden ? undefined : (e) => ctx.react_(m, e, true));
  });
  const n = m.replyCount;
  const row = h(
    'div',
    { class: 'rx' },
    ...(m.reactions ?? []).map(({ emoji, count, mine }) =>
      button(
        {
          'aria-pressed': String(!!mine),
          'aria-label': fill(s.reaction, { emoji, n: count }),
          'data-f': emoji,
        },
        `${emoji} ${count}`,
        () => ctx.react_(m, emoji, !mine),
      ),
    ),
    add,
    pick,
    button({ 'aria-label': fill(s.replyTo, { name }), 'data-f': 'r' }, s.reply, () => ctx.reply_(m)),
    !!n && h('span', { text: n > 1 ? fill(s.replies, { n }) : s.oneReply }),
  );
  return row;
};

/** The log item of a stored message. */
export const messageItem = (m: Message, ctx: ItemContext): HTMLLIElement => {
  const s = ctx.s_;
  const mine = m.senderId === ctx.me_;
  const system = m.type === 'system';
  const name = senderName(m, s);
  const q = !m.deletedAt && m.replyTo;
  const mentioned = !m.deletedAt && !!m.mentions?.includes(ctx.me_!);
  const body = h(
    'div',
    { class: 'b' },
    mine ? h('span', { class: 'sr', text: `${s.you}: ` }) : !system && h('bdi', { class: 'who', text: name }),
    q &&
      h(
        'p',
        { class: 'q', dir: 'auto' },
        h('bdi', { text: q.senderName || (q.senderId === ctx.me_ ? s.you : q.senderId) }),
        q.deleted ? s.quoteDeleted : q.text,
      ),
    !m.deletedAt && attachment(m, ctx),
    m.deletedAt ? text(s.deleted) : m.text && text(m.text, m.mentions),
    !system && meta(mine, m.createdAt, ctx, !!m.editedAt && !m.deletedAt, mentioned),
    !system && !m.deletedAt && actions(m, ctx, mine ? s.message : name),
  );
  const li = h(
    'li',
    {
      class: `m ${system ? 'sys' : mine ? 'me' : 'them'}${m.deletedAt ? ' del' : ''}${mentioned ? ' mn' : ''}`,
      'data-seq': m.seq,
      'data-message-id': m.messageId,
      'data-sender-role': m.senderRole,
    },
    !mine && !system && h('span', { class: 'av', 'aria-hidden': 'true', text: initials(name) }),
    body,
  );
  if (mine) setTick(li, 'sent', s);
  return li;
};

/** The log item of a message still in the outbox (or being created). */
export const pendingItem = (
  entry: Pick<OutboxEntry, 'clientMessageId' | 'text' | 'createdAt'>,
  ctx: ItemContext,
): HTMLLIElement => {
  const li = h(
    'li',
    { class: 'm me pend', 'data-client-message-id': entry.clientMessageId },
    h(
      'div',
      { class: 'b' },
      h('span', { class: 'sr', text: `${ctx.s_.you}: ` }),
      text(entry.text || '📎'),
      meta(true, entry.createdAt, ctx),
    ),
  );
  setTick(li, 'pending', ctx.s_);
  return li;
};
