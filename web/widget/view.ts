/**
 * The widget's DOM in an open shadow root: a dock (connection status and the launcher) and the panel
 * (header, conversation log, typing line, closed-chat section, uploads, the quote of the message being
 * answered, composer). Built once, synchronously, so the launcher works before anything is fetched.
 */
import { fill, h, icon } from './dom.ts';
import type { Strings, WidgetOptions } from './options.ts';
import { CSS } from './styles.ts';

const CHAT_ICON = 'M20 2H4a2 2 0 0 0-2 2v18l4-4h14a2 2 0 0 0 2-2V4a2 2 0 0 0-2-2z';
const DOWN_ICON = 'M7.41 8.59 12 13.17l4.59-4.58L18 10l-6 6-6-6z';
const CLIP_ICON =
  'M16.5 6v11.5a4 4 0 0 1-8 0V5a2.5 2.5 0 0 1 5 0v10.5a1 1 0 0 1-2 0V6H10v9.5a2.5 2.5 0 0 0 5 0V5a4 4 0 0 0-8 0v12.5a5.5 5.5 0 0 0 11 0V6h-1.5z';

let sheet: CSSStyleSheet | undefined;

export type View = ReturnType<typeof buildView>;

export const buildView = (options: WidgetOptions, s: Strings) => {
  const host = h('chat-widget' as 'div');
  const root = host.attachShadow({ mode: 'open' });
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet.prototype.replaceSync === 'function') {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sheet];
  } else {
    root.append(h('style', { text: CSS })); // older browsers (no constructable stylesheets)
  }

  const status = h('p', { class: 'st', role: 'status', 'data-state': 'connecting', text: 'Offline' });
  const badge = h('span', { class: 'bd', 'aria-hidden': 'true', hidden: true });
  const unread = h('span', { class: 'sr', id: 'cw-unread' });
  const launcher = h(
    'button',
    {
      class: 'la',
      type: 'button',
      'aria-label': 'Open chat',
      'aria-expanded': 'false',
      'aria-controls': 'cw-panel',
      'aria-describedby': 'cw-unread',
    },
    icon(CHAT_ICON),
    options.launcherText && h('span', { text: options.launcherText }),
    badge,
  );

  const minimize = h('button', { class: 'ib', type: 'button', 'aria-label': s.minimize }, icon(DOWN_ICON));
  const end = h('button', { class: 'ib', type: 'button', text: s.endChat, hidden: true });
  const more = h('button', { class: 'more', type: 'button', text: s.earlier, hidden: true });
  const greeting = h('p', { class: 'gr', hidden: true });
  const list = h('ol');
  const log = h('div', { class: 'log', role: 'log', 'aria-label': 'Conversation' }, list);
  const scroller = h('div', { class: 'sc' }, more, greeting, log);
  const typing = h('p', { class: 'ty', 'aria-live': 'polite' });

  const ratingInputs = [1, 2, 3, 4, 5].map((n) =>
    h('input', {
      type: 'radio',
      name: 'rating',
      value: n,
      required: true,
      'aria-label': fill(s.stars, { n }),
    }),
  );
  const feedback = h('textarea', {
    name: 'feedback',
    rows: 2,
    maxlength: 2000,
    'aria-label': s.feedback,
    placeholder: s.feedback,
  });
  const ratingForm = h(
    'form',
    {},
    h(
      'fieldset',
      {},
      h('legend', { text: s.rate }),
      ...ratingInputs.map((input, i) => h('label', {}, input, `${i + 1}★`)),
    ),
    feedback,
    h('button', { class: 'pb', type: 'submit', text: s.submitRating }),
  );
  const thanks = h('p', { text: s.thanks, hidden: true });
  const newChat = h('button', { class: 'pb', type: 'button', text: s.newChat });
  const closed = h(
    'section',
    { class: 'cl', 'aria-label': s.ended, hidden: true },
    h('p', { text: s.ended }),
    ratingForm,
    thanks,
    newChat,
  );

  const uploads = h('div', { class: 'up' });
  const error = h('p', { class: 'err', role: 'alert' });
  const input = h('textarea', {
    rows: 1,
    maxlength: 8000,
    'aria-label': 'Message',
    placeholder: s.placeholder,
    autocomplete: 'off',
  });
  // "Replying to …" above the composer while the visitor answers a message.
  const replyText = h('span', { dir: 'auto' });
  const replyCancel = h('button', { class: 'ib', type: 'button', 'aria-label': s.cancelReply, text: '×' });
  const replyBar = h('div', { class: 'rq', hidden: true }, replyText, replyCancel);
  const file = h('input', { type: 'file', hidden: true, tabindex: -1, multiple: true });
  const attach = h('button', { class: 'ib', type: 'button', 'aria-label': s.attach }, icon(CLIP_ICON));
  // The emoji picker and the voice recorder load from /widget-media.js on first use (media-loader.ts).
  const emoji = h('button', { class: 'ib', type: 'button', 'aria-label': 'Insert emoji', text: '☺' });
  const mic = h('button', { class: 'ib', type: 'button', 'aria-label': 'Record voice message', text: '🎤' });
  const form = h(
    'form',
    { class: 'cp' },
    attach,
    file,
    emoji,
    mic,
    input,
    h('button', { class: 'pb', type: 'submit', text: 'Send' }),
  );

  const panel = h(
    'div',
    { class: 'p', id: 'cw-panel', role: 'dialog', 'aria-labelledby': 'cw-title', hidden: true },
    h(
      'div',
      { class: 'hd' },
      h('h2', { class: 'ttl', id: 'cw-title', text: options.title ?? s.title }),
      end,
      minimize,
    ),
    scroller,
    typing,
    closed,
    uploads,
    error,
    replyBar,
    form,
  );
  const wrap = h(
    'div',
    { class: `w${options.position === 'left' ? ' left' : ''}`, lang: options.locale },
    panel,
    h('div', { class: 'dock' }, status, launcher, unread),
  );
  if (options.zIndex) wrap.style.setProperty('--cw-z', String(options.zIndex));
  root.append(wrap);

  return {
    host_: host,
    root_: root,
    wrap_: wrap,
    status_: status,
    launcher_: launcher,
    badge_: badge,
    unread_: unread,
    panel_: panel,
    end_: end,
    minimize_: minimize,
    scroller_: scroller,
    more_: more,
    greeting_: greeting,
    list_: list,
    typing_: typing,
    closed_: closed,
    ratingForm_: ratingForm,
    ratingInputs_: ratingInputs,
    feedback_: feedback,
    thanks_: thanks,
    newChat_: newChat,
    uploads_: uploads,
    error_: error,
    replyBar_: replyBar,
    replyText_: replyText,
    replyCancel_: replyCancel,
    form_: form,
    input_: input,
    file_: file,
    attach_: attach,
    emoji_: emoji,
    mic_: mic,
  };
};
