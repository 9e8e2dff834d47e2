/**
 * Replies in the console: a reply's quote of the message it answers, the "Replying to …" bar above the
 * composer (the next message sent answers that message), and the thread panel under the log: the
 * replies to one message (GET …/messages/{messageId}/replies), kept live while it is open.
 */
import type { ChatClient, Message, ReplyQuote } from '../sdk/index.ts';
import { errorText, h, isolate, timeElement, truncate } from './dom.ts';
import { mentionText } from './mentions.ts';

/** Who a message (or a quote) is from, as the log names them. */
export type SenderLabel = (sender: Pick<Message, 'senderId' | 'senderName'> & Partial<Message>) => string;

const QUOTE_CHARS = 120;
const REPLY_PAGE = 100;
/** Replies loaded when a thread opens (later ones arrive live). */
const REPLY_PAGES_MAX = 5;

const snippet = (message: Message): string =>
  truncate(message.text || message.attachment?.fileName || '', QUOTE_CHARS);

/** A reply's quote: the sender and the text as sent ("Original message deleted" once it is). */
export const renderQuote = (quote: ReplyQuote, senderLabel: SenderLabel): HTMLElement =>
  h(
    'blockquote',
    { class: 'msg-quote', 'data-testid': 'quote' },
    isolate(senderLabel(quote), 'msg-quote-sender'),
    ' ',
    quote.deleted
      ? h('span', { class: 'msg-deleted' }, 'Original message deleted')
      : isolate(quote.text ?? '', 'msg-quote-text'),
  );

export interface ReplyBar {
  /** Answers `message` with the next message sent (undefined: no more). */
  set(message?: Message): void;
  /** The messageId the next message answers. */
  readonly target: string | undefined;
}

/** The bar above the composer while the agent answers a message, with "Cancel reply". */
export const createReplyBar = (options: {
  composer: HTMLElement;
  input: HTMLTextAreaElement;
  senderLabel: SenderLabel;
}): ReplyBar => {
  const { composer, input, senderLabel } = options;
  const text = h('p', { class: 'reply-bar-text', 'data-testid': 'reply-bar-text' });
  const cancel = h('button', { type: 'button', class: 'link-button' }, 'Cancel reply');
  const bar = h('div', { class: 'reply-bar', 'data-testid': 'reply-bar', hidden: true }, text, cancel);
  composer.before(bar);
  let target: Message | undefined;
  const set = (message?: Message) => {
    target = message;
    bar.hidden = !message;
    text.replaceChildren(
      ...(message
        ? ['Replying to ', isolate(senderLabel(message), 'msg-sender'), ': ', isolate(snippet(message))]
        : []),
    );
  };
  cancel.addEventListener('click', () => {
    set();
    input.focus();
  });
  return {
    set,
    get target() {
      return target?.messageId;
    },
  };
};

export interface ThreadPanel {
  open(message: Message): Promise<void>;
  close(): void;
  /** A message or a newer copy of one (live): shown if it belongs to the open thread. */
  update(message: Message): void;
}

/** The thread of one message, in a panel after `anchor` (the log). */
export const createThreadPanel = (options: {
  client: ChatClient;
  anchor: HTMLElement;
  senderLabel: SenderLabel;
  showError: (text: string) => void;
}): ThreadPanel => {
  const { client, anchor, senderLabel } = options;
  const parentLine = h('p', { class: 'thread-parent' });
  const close = h('button', { type: 'button', class: 'link-button' }, 'Close thread');
  const list = h('ol', { class: 'thread-list', 'data-testid': 'thread-replies' });
  const panel = h(
    'section',
    { class: 'thread', 'aria-labelledby': 'thread-title', 'data-testid': 'thread', hidden: true },
    h('div', { class: 'thread-head' }, h('h3', { id: 'thread-title' }, 'Thread'), close),
    parentLine,
    list,
  );
  anchor.after(panel);
  let parent: Message | undefined;
  /** Moves on each open and close: a page that answers after either is dropped. */
  let opened = 0;
  const replies = new Map<number, Message>();

  const item = (message: Message) =>
    h(
      'li',
      { class: 'thread-item', 'data-testid': 'thread-reply', 'data-seq': message.seq },
      h(
        'div',
        { class: 'msg-head' },
        isolate(senderLabel(message), 'msg-sender'),
        ' ',
        timeElement(message.createdAt),
      ),
      message.deletedAt
        ? h('p', { class: 'msg-text msg-deleted' }, 'This message was deleted')
        : h(
            'p',
            { class: 'msg-text bidi', dir: 'auto' },
            ...mentionText(message.text, message.mentions, (senderId) => senderLabel({ senderId })),
          ),
    );
  const draw = () => {
    const sorted = [...replies.values()].sort((a, b) => a.seq - b.seq);
    list.replaceChildren(...sorted.map(item));
    if (sorted.length === 0) list.append(h('li', { class: 'muted' }, 'No replies yet'));
  };
  const showParent = (message: Message) => {
    parent = message;
    parentLine.replaceChildren(
      isolate(senderLabel(message), 'msg-sender'),
      ': ',
      message.deletedAt ? 'This message was deleted' : isolate(snippet(message)),
    );
  };
  const hide = () => {
    opened++;
    parent = undefined;
    replies.clear();
    list.replaceChildren();
    panel.hidden = true;
  };
  close.addEventListener('click', () => {
    const id = parent?.messageId;
    hide();
    // Back to the message's Thread control (its node may have been redrawn since it was clicked).
    const opener = id
      ? anchor.querySelector<HTMLElement>(`[data-message-id="${CSS.escape(id)}"] [data-focus-key="thread"]`)
      : null;
    (opener ?? anchor).focus();
  });

  return {
    open: async (message) => {
      const token = ++opened;
      showParent(message);
      replies.clear();
      list.replaceChildren(h('li', { class: 'muted' }, 'Loading replies…'));
      panel.hidden = false;
      close.focus();
      try {
        let after: number | undefined;
        for (let page = 0; page < REPLY_PAGES_MAX; page++) {
          const result = await client.replies(message.chatId, message.messageId, {
            limit: REPLY_PAGE,
            ...(after === undefined ? {} : { after }),
          });
          if (token !== opened) return;
          for (const reply of result.items) if (!replies.has(reply.seq)) replies.set(reply.seq, reply);
          after = result.items.at(-1)?.seq;
          if (result.nextCursor === undefined || after === undefined) break;
        }
        draw();
      } catch (cause) {
        if (token === opened) options.showError(`Could not load the thread: ${errorText(cause)}`);
      }
    },
    close: hide,
    update: (message) => {
      if (!parent || message.chatId !== parent.chatId) return;
      if (message.messageId === parent.messageId) return showParent(message);
      if (message.replyTo?.messageId !== parent.messageId && !replies.has(message.seq)) return;
      replies.set(message.seq, message);
      draw();
    },
  };
};
