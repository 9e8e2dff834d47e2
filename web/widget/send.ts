/**
 * What the visitor sends: a text message (shown at once, through the SDK's persisted outbox; a reply
 * when a quote is above the composer) and files (uploaded with a progress bar, then sent as an
 * attachment message).
 */
import { isRetryable } from '../sdk/index.ts';
import { ensureChat, startNew } from './chat.ts';
import { type Ctx, scrollToEnd, showError, showGreeting } from './context.ts';
import { fill, h } from './dom.ts';
import { pendingItem } from './messages.ts';
import { renderPending } from './log.ts';
import { setReply } from './reply.ts';
import { stopTyping } from './typing.ts';
import { askNotifications } from './unread.ts';

export const submit = async (w: Ctx): Promise<void> => {
  const v = w.v_;
  const text = v.input_.value.trim();
  if (!text) return;
  askNotifications(w);
  if (w.chat_?.status === 'closed') startNew(w);
  v.input_.value = '';
  showError(w);
  // Shown at once, while the visitor and the chat are created (then the outbox shows it).
  const temp = pendingItem({ clientMessageId: '', text, createdAt: new Date().toISOString() }, w.ic_);
  v.list_.append(temp);
  showGreeting(w);
  scrollToEnd(w);
  const gen = w.gen_;
  let chatId: string;
  try {
    chatId = await ensureChat(w);
  } catch {
    temp.remove();
    showGreeting(w);
    // After a reset the text belonged to the visitor who left: neither an error nor back in the input.
    if (gen !== w.gen_) return;
    showError(w, w.s_.failed);
    if (!v.input_.value) v.input_.value = text;
    return;
  }
  stopTyping(w);
  const replyTo = w.replyTo_?.messageId;
  setReply(w);
  const sending = w.client_!.send(chatId, { text, replyTo });
  temp.remove();
  renderPending(w);
  sending.catch((error: unknown) => {
    if (!isRetryable(error)) showError(w, w.s_.failed);
  });
};

export const upload = async (w: Ctx, file: File): Promise<void> => {
  const progress = h('progress', {
    max: 1,
    value: 0,
    'aria-label': fill(w.s_.uploading, { name: file.name }),
  });
  const row = h('p', {}, file.name, progress);
  w.v_.uploads_.append(row);
  try {
    const chatId = await ensureChat(w);
    const client = w.client_!;
    const { attachmentId } = await client.upload(chatId, file, {
      onProgress: (fraction) => (progress.value = fraction),
    });
    if (client !== w.client_) return; // reset meanwhile: the old visitor's file is not sent
    // Until storage confirms the upload the API answers 409; the SDK's outbox asks again.
    await client.send(chatId, { attachmentId });
  } catch {
    showError(w, w.s_.failed);
  } finally {
    row.remove();
  }
};
