/**
 * One message of the log as DOM: sender, time, "mentions you" when it mentions the agent, the quote
 * of the message it answers, text (linkified, its mentions marked, as text), attachment (download link,
 * image preview), reactions, edited / deleted marks, Reply and Thread (when it has replies), the read
 * receipt of the agent's own messages and their Edit / Delete controls. System messages look different
 * (centered, no sender bubble). Controls that keep the focus when the message is redrawn carry a
 * `data-focus-key`.
 */
import type { ChatClient } from '../sdk/index.ts';
import type { Message } from '../sdk/index.ts';
import { externalLink, formatBytes, h, isolate, linkify, safeHttpUrl, timeElement } from './dom.ts';
import { formatDuration, playableUrl, voiceLabel } from '../shared-ui/voice.ts';
import { mentionsUser, mentionText } from './mentions.ts';
import { renderReactions } from './reactions.ts';
import { renderQuote, type SenderLabel } from './replies.ts';

export interface MessageViewContext {
  readonly client: ChatClient;
  readonly me: string;
  /** The name shown for a sender. */
  senderLabel: SenderLabel;
  /** Whether another participant has read up to this seq. */
  readBy(seq: number): boolean;
  onEdit(message: Message): void;
  onDelete(message: Message): void;
  onReply(message: Message): void;
  onReact(message: Message, emoji: string, on: boolean): void;
  onThread(message: Message): void;
}

/** Reply and Thread (with the reply count) of a message. */
const replyControls = (
  message: Message,
  context: MessageViewContext,
  describedBy?: string,
): HTMLElement[] => {
  const controls: HTMLElement[] = [];
  if (!message.deletedAt && message.type !== 'system') {
    const name = message.senderId === context.me ? 'message' : context.senderLabel(message);
    const reply = h(
      'button',
      { type: 'button', class: 'link-button', 'aria-label': `Reply to ${name}`, 'data-focus-key': 'reply' },
      'Reply',
    );
    reply.addEventListener('click', () => context.onReply(message));
    controls.push(reply);
  }
  const count = message.replyCount ?? 0;
  if (count > 0) {
    const thread = h(
      'button',
      { type: 'button', class: 'link-button', 'aria-describedby': describedBy, 'data-focus-key': 'thread' },
      `Thread (${count} ${count === 1 ? 'reply' : 'replies'})`,
    );
    thread.addEventListener('click', () => context.onThread(message));
    controls.push(thread);
  }
  return controls;
};

/** Download URLs are presigned for 5 minutes; ask again after 4. */
const URL_TTL_MS = 4 * 60 * 1000;

const attachmentView = (message: Message, context: MessageViewContext): HTMLElement | null => {
  const attachment = message.attachment;
  if (!attachment) return null;
  if (attachment.kind === 'audio') return voiceView(attachment, context);
  const label = `${attachment.fileName} (${formatBytes(attachment.size)})`;
  const link = externalLink('#', label);
  link.removeAttribute('href'); // set once the presigned URL is known
  link.setAttribute('data-testid', 'attachment-link');
  link.setAttribute('download', attachment.fileName);
  const image =
    attachment.kind === 'image'
      ? h('img', {
          alt: attachment.fileName,
          'data-testid': 'attachment-image',
          width: attachment.width,
          height: attachment.height,
          loading: 'lazy',
        })
      : null;
  let fetchedAt = 0;
  const resolve = async (): Promise<string | undefined> => {
    const url = safeHttpUrl(await context.client.attachmentUrl(attachment.attachmentId));
    if (!url) return undefined;
    fetchedAt = Date.now();
    link.href = url;
    if (image && !image.src) image.src = url;
    return url;
  };
  resolve().catch(() => link.replaceChildren(`${label} — unavailable`));
  link.addEventListener('click', (event) => {
    if (link.href && Date.now() - fetchedAt < URL_TTL_MS) return;
    event.preventDefault();
    void resolve().then((url) => url && window.open(url, '_blank', 'noopener,noreferrer'));
  });
  return h('figure', { class: 'msg-attachment' }, image, h('figcaption', {}, link));
};

/** A voice message: a player (its bytes as a blob: URL: the page's CSP allows media from 'self' and blob:) and its duration. */
const voiceView = (
  attachment: NonNullable<Message['attachment']>,
  context: MessageViewContext,
): HTMLElement => {
  const label = voiceLabel(attachment.durationMs);
  const audio = h('audio', {
    controls: true,
    preload: 'metadata',
    'aria-label': label,
    'data-testid': 'voice',
  });
  const figure = h(
    'figure',
    { class: 'msg-attachment msg-voice' },
    audio,
    attachment.durationMs ? h('figcaption', {}, formatDuration(attachment.durationMs)) : null,
  );
  context.client
    .attachmentUrl(attachment.attachmentId)
    .then((url) => playableUrl(safeHttpUrl(url) ?? ''))
    .then((src) => (audio.src = src))
    .catch(() => figure.append(h('span', {}, `${label} — unavailable`)));
  return figure;
};

export const renderMessage = (message: Message, context: MessageViewContext): HTMLElement => {
  const mine = message.senderId === context.me;
  const system = message.type === 'system';
  const mentioned = mentionsUser(message, context.me);
  const textId = `msg-text-${message.seq}`;
  const root = h('div', {
    class: `msg ${system ? 'msg-system' : mine ? 'msg-mine' : 'msg-theirs'}${mentioned ? ' msg-mentions-me' : ''}`,
    'data-testid': 'message',
    'data-seq': message.seq,
    'data-message-id': message.messageId,
    'data-sender-role': message.senderRole,
    'data-kind': message.system?.kind,
  });
  const text = message.deletedAt
    ? h(
        'p',
        { class: 'msg-text msg-deleted', 'data-testid': 'message-text', id: textId },
        'This message was deleted',
      )
    : message.text
      ? h(
          'p',
          { class: 'msg-text bidi', dir: 'auto', 'data-testid': 'message-text', id: textId },
          // Mentions from the message's list only; the user's name in a tooltip.
          ...mentionText(message.text, message.mentions, (senderId) => context.senderLabel({ senderId })),
        )
      : null;
  const foot = h('div', { class: 'msg-foot' });
  if (message.editedAt && !message.deletedAt) foot.append(h('span', { class: 'msg-edited' }, 'edited'));
  const reactions =
    message.deletedAt || system
      ? undefined
      : renderReactions(message, (emoji, on) => context.onReact(message, emoji, on));
  if (reactions) foot.append(reactions.add);
  foot.append(...replyControls(message, context, text ? textId : undefined));
  if (mine && !system) {
    const read = context.readBy(message.seq);
    foot.append(
      h(
        'span',
        { class: 'receipt', 'data-testid': 'receipt', 'data-read': String(read) },
        read ? 'Read' : 'Sent',
      ),
    );
    if (!message.deletedAt) {
      const edit = h('button', { type: 'button', class: 'link-button', 'aria-describedby': textId }, 'Edit');
      const remove = h(
        'button',
        { type: 'button', class: 'link-button', 'aria-describedby': textId },
        'Delete',
      );
      if (message.text) {
        edit.addEventListener('click', () => context.onEdit(message));
        foot.append(edit);
      }
      remove.addEventListener('click', () => {
        if (remove.dataset.confirm !== 'true') {
          remove.dataset.confirm = 'true';
          remove.textContent = 'Confirm delete';
          return;
        }
        context.onDelete(message);
      });
      remove.addEventListener('blur', () => {
        remove.dataset.confirm = 'false';
        remove.textContent = 'Delete';
      });
      foot.append(remove);
    }
  }
  root.append(
    h(
      'div',
      { class: 'msg-head' },
      isolate(system ? (message.senderName ?? 'System') : context.senderLabel(message), 'msg-sender'),
      ' ',
      timeElement(message.createdAt),
      mentioned ? h('span', { class: 'mention-you', 'data-testid': 'mentions-you' }, 'mentions you') : '',
    ),
    message.replyTo && !message.deletedAt ? renderQuote(message.replyTo, context.senderLabel) : '',
    text ?? '',
    message.deletedAt ? '' : (attachmentView(message, context) ?? ''),
    reactions?.row ?? '',
  );
  if (foot.childElementCount > 0) root.append(foot);
  return root;
};

/** An outbox entry not yet acknowledged by the server. */
export const renderPending = (entry: {
  clientMessageId: string;
  text?: string;
  attachmentId?: string;
}): HTMLElement =>
  h(
    'div',
    {
      class: 'msg msg-mine msg-pending',
      'data-testid': 'message-pending',
      'data-client-message-id': entry.clientMessageId,
    },
    h(
      'p',
      { class: 'msg-text bidi', dir: 'auto' },
      ...linkify(entry.text ?? (entry.attachmentId ? 'Attachment' : '')),
    ),
    h('div', { class: 'msg-foot' }, h('span', { class: 'receipt' }, 'Sending…')),
  );
