/**
 * The selected conversation's messages: a `log` kept in seq order (history, live messages, older pages
 * on demand), pending outbox entries, typing both ways (typing.ts), read receipts (sent when the agent
 * sees the end of the chat, shown on the agent's own messages), edits and deletes of own messages,
 * replies and threads (replies.ts), reactions (reactions.ts), and the composer (Message / Send, Enter
 * sends, `@` mentions of participants (mentions.ts), file attachments with upload progress).
 */
import { applyParentDeleted, applyUpdate, type ChatClient } from '../sdk/index.ts';
import type { Chat, Message } from '../sdk/index.ts';
import { byId, errorText, h } from './dom.ts';
import { askNotifications, createMentionCompletion } from './mentions.ts';
import { renderMessage, renderPending, type MessageViewContext } from './message-view.ts';
import { createComposerMedia } from './composer-media.ts';
import { createReactions } from './reactions.ts';
import { createReplyBar, createThreadPanel } from './replies.ts';
import { customerName, customerOf, type Store } from './store.ts';
import { createTyping } from './typing.ts';

/** Messages loaded when a chat opens and per "Load earlier messages". */
const PAGE = 30;
const READ_DEBOUNCE_MS = 500;

export interface MessagePane {
  open(chat: Chat): Promise<void>;
  close(): Promise<void>;
  focusComposer(): void;
  /** The chat changed (status, participants): composer state and labels. */
  refresh(): void;
  /** The tab became visible again: send the read receipt it held back. */
  markReadSoon(): void;
  /** Stops the open chat's subscription (hidden tab while polling); `resume` catches up. */
  suspend(): Promise<void>;
  resume(): Promise<void>;
}

export const createMessagePane = (options: {
  client: ChatClient;
  store: Store;
  announce: (text: string) => void;
}): MessagePane => {
  const { client, store, announce } = options;
  const me = store.me.userId;
  const log = byId('message-log');
  const earlier = byId<HTMLButtonElement>('load-earlier');
  const typingLine = byId('typing');
  const composer = byId<HTMLFormElement>('composer');
  const input = byId<HTMLTextAreaElement>('composer-input');
  const send = byId<HTMLButtonElement>('send');
  const fileInput = byId<HTMLInputElement>('attach-file');
  const upload = byId('upload-status');
  const closedNote = byId('closed-note');
  const error = byId('pane-error');

  let chatId: string | undefined;
  const messages = new Map<number, Message>();
  const nodes = new Map<number, HTMLElement>();
  /** Other users' read positions in this chat. */
  const readBy = new Map<string, number>();
  let oldestLoaded = Number.POSITIVE_INFINITY;
  let readTimer: ReturnType<typeof setTimeout> | undefined;
  let lastReadSent = 0;

  const showError = (text?: string) => {
    error.textContent = text ?? '';
    error.hidden = !text;
  };

  const senderLabel: MessageViewContext['senderLabel'] = (message) => {
    if (message.senderId === me) return 'You';
    if (message.senderName) return message.senderName;
    const chat = store.selected;
    if (chat && message.senderId === customerOf(chat)) return customerName(chat);
    return message.senderRole === 'agent' ? `${message.senderId} (agent)` : message.senderId;
  };
  const typing = createTyping({ client, store, line: typingLine, input, chatId: () => chatId });
  const replyBar = createReplyBar({ composer, input, senderLabel });
  const mentions = createMentionCompletion({ composer, input, store });
  const thread = createThreadPanel({ client, anchor: log, senderLabel, showError });
  const reactions = createReactions({
    client,
    me,
    shown: (chat, seq) => (chat === chatId ? messages.get(seq) : undefined),
    show: (message) => place(message),
    showError,
  });

  const context: MessageViewContext = {
    client,
    me,
    senderLabel,
    readBy: (seq) => [...readBy.values()].some((read) => read >= seq),
    onEdit: (message) => startEdit(message),
    onDelete: (message) => {
      if (!chatId) return;
      client.deleteMessage(chatId, message.messageId).then(
        () => announce('Message deleted'),
        (cause: unknown) => showError(`Could not delete: ${errorText(cause)}`),
      );
    },
    onReply: (message) => {
      replyBar.set(message);
      input.focus();
    },
    onReact: (message, emoji, on) => reactions.react(message, emoji, on),
    onThread: (message) => void thread.open(message),
  };

  const nearBottom = () => log.scrollHeight - log.scrollTop - log.clientHeight < 80;
  const scrollToEnd = () => {
    log.scrollTop = log.scrollHeight;
  };

  /** Puts a message's node in seq order (replacing its previous rendering, keeping its control's focus). */
  const place = (message: Message) => {
    const stick = nearBottom();
    const node = renderMessage(message, context);
    const previous = nodes.get(message.seq);
    messages.set(message.seq, message);
    nodes.set(message.seq, node);
    if (previous) {
      const focused = document.activeElement;
      const key = focused instanceof HTMLElement && previous.contains(focused) && focused.dataset.focusKey;
      previous.replaceWith(node);
      if (key) node.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`)?.focus();
      return;
    }
    const next = [...nodes.keys()].filter((seq) => seq > message.seq).sort((a, b) => a - b)[0];
    const before =
      next === undefined ? log.querySelector('[data-testid="message-pending"]') : nodes.get(next);
    log.insertBefore(node, before ?? null);
    if (stick) scrollToEnd();
  };

  const renderPendingEntries = () => {
    for (const node of Array.from(log.querySelectorAll('[data-testid="message-pending"]'))) node.remove();
    if (!chatId) return;
    const sent = new Set([...messages.values()].map((m) => m.clientMessageId));
    for (const entry of client.pending(chatId))
      if (!sent.has(entry.clientMessageId)) log.append(renderPending(entry));
  };

  /** Read marks of the agent's own messages, updated in place. */
  const updateReceipts = () => {
    for (const [seq, node] of nodes) {
      const receipt = node.querySelector<HTMLElement>('[data-testid="receipt"]');
      if (!receipt) continue;
      const read = context.readBy(seq);
      receipt.dataset.read = String(read);
      receipt.textContent = read ? 'Read' : 'Sent';
    }
  };

  const isParticipant = () => Boolean(store.selected?.participants?.some((p) => p.userId === me));

  /** Read receipt and "seen" once the agent can see the end of the chat (tab visible). */
  const markReadSoon = () => {
    if (readTimer) clearTimeout(readTimer);
    readTimer = setTimeout(() => {
      const last = Math.max(0, ...messages.keys());
      if (!chatId || last === 0 || document.visibilityState !== 'visible') return;
      store.markSeen(chatId, last);
      if (last > lastReadSent && isParticipant()) {
        lastReadSent = last;
        client.markRead(chatId, last).catch(() => (lastReadSent = 0));
      }
    }, READ_DEBOUNCE_MS);
  };

  const startEdit = (message: Message) => {
    const node = nodes.get(message.seq);
    const text = node?.querySelector('.msg-text');
    if (!node || !text || !chatId) return;
    const area = h('textarea', {
      class: 'edit-input',
      'aria-label': 'Edited text',
      rows: 2,
      maxlength: 8000,
    });
    area.value = message.text;
    const save = h('button', { type: 'submit' }, 'Save');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    const form = h('form', { class: 'edit-form' }, area, save, cancel);
    const current = chatId;
    cancel.addEventListener('click', () => place(messages.get(message.seq) ?? message));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = area.value.trim();
      if (!value || value === message.text) return place(message);
      client.editMessage(current, message.messageId, value).then(
        (updated: Message) => current === chatId && place(applyUpdate(messages.get(updated.seq), updated)),
        (cause: unknown) => showError(`Could not edit: ${errorText(cause)}`),
      );
    });
    area.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') place(messages.get(message.seq) ?? message);
    });
    text.replaceWith(form);
    area.focus();
  };

  const refresh = () => {
    const chat = store.selected;
    const closed = chat?.status === 'closed';
    input.disabled = closed;
    send.disabled = closed;
    fileInput.disabled = closed;
    closedNote.hidden = !closed;
  };
  store.on('selected', refresh);

  // ---- client events ----
  client.on('message', (message) => {
    store.noteMessage(message);
    if (message.chatId !== chatId) return;
    place(message);
    oldestLoaded = Math.min(oldestLoaded, message.seq);
    renderPendingEntries();
    typing.messageFrom(message.senderId);
    thread.update(message);
    markReadSoon();
  });
  client.on('messageUpdated', (message) => {
    if (message.chatId === chatId) {
      // A newer copy (its reactions keep the agent's own), and the quotes of a deleted message blanked.
      for (const shown of [...messages.values()]) {
        const next =
          shown.seq === message.seq ? applyUpdate(shown, message) : applyParentDeleted(shown, message);
        if (next !== shown) place(next);
      }
      thread.update(message);
      if (message.deletedAt && replyBar.target === message.messageId) replyBar.set();
    }
    const last = store.lastMessage.get(message.chatId);
    if (last?.seq === message.seq) store.noteMessage(message);
  });
  client.on('outbox', () => renderPendingEntries());
  client.on('receipt', ({ chatId: receiptChat, userId, seq }) => {
    if (receiptChat !== chatId || userId === me) return;
    if ((readBy.get(userId) ?? 0) >= seq) return;
    readBy.set(userId, seq);
    updateReceipts();
  });

  // ---- composer ----
  const submit = () => {
    const text = input.value.trim();
    if (!text || !chatId) return;
    input.value = '';
    typing.stop();
    showError();
    const target = chatId;
    const replyTo = replyBar.target;
    replyBar.set();
    askNotifications();
    client.send(target, { text, replyTo, mentions: mentions.take(text) }).then(
      (message: Message) => {
        if (message.chatId === chatId) place(message);
        renderPendingEntries();
      },
      (cause: unknown) => showError(`Not sent: ${errorText(cause)}`),
    );
    renderPendingEntries();
  };
  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (event) => {
    if (mentions.keydown(event)) return;
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  /**
   * Uploads a file and sends it to the open chat with the composer's text as its caption; a voice
   * message goes to the chat it was recorded in (`to`), without a caption.
   */
  const sendFile = (file: File, to?: { chatId: string }) => {
    const target = to?.chatId ?? chatId;
    if (!target) return;
    const progress = h('progress', { max: 1, value: 0, 'aria-label': `Uploading ${file.name}` });
    upload.replaceChildren(progress);
    upload.hidden = false;
    client
      .upload(target, file, { onProgress: (fraction: number) => (progress.value = fraction) })
      .then(({ attachmentId }: { attachmentId: string }) => {
        const caption = to ? '' : input.value.trim();
        if (!to) input.value = '';
        const mentioned = mentions.take(caption);
        // Until storage confirms the upload the API answers 409; the SDK's outbox asks again.
        return client.send(
          target,
          caption ? { attachmentId, text: caption, mentions: mentioned } : { attachmentId },
        );
      })
      .then(
        () => announce(`${file.name} sent`),
        (cause: unknown) => showError(`Upload failed: ${errorText(cause)}`),
      )
      .finally(() => {
        upload.hidden = true;
        upload.replaceChildren();
        fileInput.value = '';
      });
  };
  fileInput.addEventListener('change', () => fileInput.files?.[0] && sendFile(fileInput.files[0]));
  createComposerMedia({ composer, input, sendFile, showError, openChat: () => chatId });

  earlier.addEventListener('click', () => {
    if (!chatId || oldestLoaded <= 1) return;
    const target = chatId;
    const height = log.scrollHeight;
    earlier.setAttribute('aria-busy', 'true');
    client
      .history(target, { before: oldestLoaded, limit: PAGE })
      .then((items: Message[]) => {
        if (target !== chatId) return;
        for (const message of items) {
          place(message);
          oldestLoaded = Math.min(oldestLoaded, message.seq);
        }
        log.scrollTop += log.scrollHeight - height; // keep the reader's place
        earlier.hidden = oldestLoaded <= 1 || items.length === 0;
      })
      .catch((cause: unknown) => showError(`Could not load earlier messages: ${errorText(cause)}`))
      .finally(() => earlier.removeAttribute('aria-busy'));
  });

  const reset = () => {
    typing.reset();
    replyBar.set();
    mentions.reset();
    thread.close();
    reactions.reset();
    messages.clear();
    nodes.clear();
    readBy.clear();
    log.replaceChildren();
    oldestLoaded = Number.POSITIVE_INFINITY;
    lastReadSent = 0;
    showError();
  };

  return {
    open: async (chat) => {
      const previous = chatId;
      if (previous === chat.chatId) return;
      if (previous) {
        typing.stop();
        client.unsubscribe(previous).catch(() => {});
      }
      reset();
      chatId = chat.chatId;
      input.value = '';
      refresh();
      renderPendingEntries();
      // The latest page first (the list's lastSeq may be behind), then live messages after it.
      const latest = await client
        .history(chat.chatId, { before: Number.MAX_SAFE_INTEGER, limit: PAGE })
        .catch(() => undefined);
      if (chatId !== chat.chatId) return;
      for (const message of latest ?? []) {
        store.noteMessage(message);
        place(message);
      }
      const after = latest ? (latest.at(-1)?.seq ?? 0) : Math.max(0, chat.lastSeq - PAGE);
      oldestLoaded = latest?.[0]?.seq ?? after + 1;
      earlier.hidden = oldestLoaded <= 1;
      scrollToEnd();
      markReadSoon();
      await client.subscribe(chat.chatId, { after });
    },
    close: async () => {
      const previous = chatId;
      reset();
      chatId = undefined;
      if (previous) await client.unsubscribe(previous).catch(() => {});
    },
    focusComposer: () => input.focus(),
    refresh,
    markReadSoon,
    suspend: async () => {
      if (chatId) await client.unsubscribe(chatId).catch(() => {});
    },
    resume: async () => {
      if (chatId) await client.subscribe(chatId, { after: Math.max(0, ...messages.keys()) });
    },
  };
};
