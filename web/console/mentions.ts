/**
 * Mentions in the console: a message's mentioned users marked in its text (from its `mentions` list
 * only, never parsed from the text), the composer's participant completion (typing `@` opens a listbox
 * of the open chat's participants; picking one inserts `@<userId> ` and mentions them in the next message
 * sent, if their `@<userId>` is still in its text), and `mention` events: a chat other than the open one
 * is marked in the list ("@", named "Mentioned") and a browser notification shows when permitted, muted
 * chat or not.
 */
import { type ChatClient, type Message, splitMentions } from '../sdk/index.ts';
import { h, isolate, linkify, truncate } from './dom.ts';
import { customerName, customerOf, type Store } from './store.ts';

/** Options the completion lists at most. */
const OPTIONS_MAX = 8;
const NOTIFICATION_CHARS = 200;
/** The id typed after an `@` that starts a word, up to the caret. */
const TYPED_MENTION = /(?:^|\s)@([\w.:@|-]*)$/;

const mentionChip = (text: string, userId: string, name: string): HTMLElement =>
  h(
    'span',
    { class: 'mention', 'data-testid': 'mention', 'data-user-id': userId, title: name, dir: 'auto' },
    text,
  );

/**
 * A message's text as nodes: links for http(s) URLs, and the `@userId` of each user in `mentions` marked
 * (a mentioned user whose `@userId` is not in the text is marked after it). All text, no markup parsed.
 */
export const mentionText = (
  text: string,
  mentions: readonly string[] | undefined,
  nameOf: (userId: string) => string,
): Node[] => {
  const parts = splitMentions(text, mentions);
  const shown = new Set(parts.map((part) => part.userId));
  const missing = [...new Set(mentions)].filter((userId) => !shown.has(userId));
  return [
    ...parts.flatMap((part) =>
      part.userId ? [mentionChip(part.text, part.userId, nameOf(part.userId))] : linkify(part.text),
    ),
    ...missing.flatMap((userId) => [
      document.createTextNode(' '),
      mentionChip(`@${userId}`, userId, nameOf(userId)),
    ]),
  ];
};

/** Whether `message` mentions `userId` (its list, not its text). */
export const mentionsUser = (message: Message, userId: string): boolean =>
  !message.deletedAt && (message.mentions ?? []).includes(userId);

const notificationsOn = (): boolean => typeof Notification === 'function';

/** Asks for notification permission once; call it from the agent's own gesture (sending). */
export const askNotifications = (): void => {
  if (notificationsOn() && Notification.permission === 'default')
    void Promise.resolve(Notification.requestPermission()).catch(() => {});
};

export interface MentionCompletion {
  /** A key of the composer: true when the open list used it (nothing else should act on it). */
  keydown(event: KeyboardEvent): boolean;
  /** The users picked whose `@userId` is still in `text`, in order (what to send); the picks are forgotten. */
  take(text: string): string[];
  /** Another chat: the list closes and the picks are forgotten. */
  reset(): void;
}

/** A participant the agent may mention, and how the list names them. */
interface Candidate {
  userId: string;
  name: string;
  role: string;
}

/**
 * The composer's `@` completion: a `listbox` above the composer whose options are the open chat's
 * participants (but the agent) matching what follows the `@`; the textbox points at the active option
 * with `aria-activedescendant`. ArrowDown / ArrowUp move, Enter or Tab picks, Escape closes.
 */
export const createMentionCompletion = (options: {
  composer: HTMLElement;
  input: HTMLTextAreaElement;
  store: Store;
}): MentionCompletion => {
  const { composer, input, store } = options;
  const me = store.me.userId;
  const listId = 'mention-list';
  const list = h('ul', {
    id: listId,
    class: 'mention-list',
    role: 'listbox',
    'aria-label': 'Mention a participant',
    'data-testid': 'mention-list',
    hidden: true,
  });
  composer.before(list);
  input.setAttribute('aria-autocomplete', 'list');
  const picked = new Set<string>();
  let shown: Candidate[] = [];
  let active = 0;

  const candidates = (): Candidate[] => {
    const chat = store.selected;
    if (!chat) return [];
    const customer = customerOf(chat);
    return (chat.participants ?? [])
      .filter((p) => p.userId !== me)
      .map((p) => ({
        userId: p.userId,
        name: p.userId === customer ? customerName(chat) : p.userId,
        role: p.role,
      }));
  };

  /** The `@…` being typed at the caret: where its `@` is and what follows it. */
  const typed = (): { start: number; query: string } | undefined => {
    const caret = input.selectionStart;
    if (caret !== input.selectionEnd) return undefined;
    const match = TYPED_MENTION.exec(input.value.slice(0, caret));
    const query = match?.[1];
    return query === undefined ? undefined : { start: caret - query.length - 1, query };
  };

  const close = () => {
    shown = [];
    list.hidden = true;
    list.replaceChildren();
    input.removeAttribute('aria-activedescendant');
    input.removeAttribute('aria-controls');
  };

  const optionId = (index: number) => `mention-option-${index}`;

  const draw = () => {
    list.replaceChildren(
      ...shown.map((candidate, index) => {
        const option = h(
          'li',
          {
            id: optionId(index),
            role: 'option',
            class: 'mention-option',
            'aria-selected': String(index === active),
            'data-user-id': candidate.userId,
          },
          // The name when it is not the id itself (a customer's from the chat's metadata).
          candidate.name === candidate.userId ? null : isolate(`${truncate(candidate.name, 60)} `),
          isolate(`@${truncate(candidate.userId, 60)}`, 'mention-id'),
          ` (${candidate.role})`,
        );
        // The textbox keeps the focus: a pointer picks without taking it.
        option.addEventListener('mousedown', (event) => event.preventDefault());
        option.addEventListener('click', () => pick(candidate.userId));
        return option;
      }),
    );
    list.hidden = false;
    input.setAttribute('aria-controls', listId);
    input.setAttribute('aria-activedescendant', optionId(active));
    document.getElementById(optionId(active))?.scrollIntoView?.({ block: 'nearest' });
  };

  /** Opens, filters or closes the list after what was typed at the caret. */
  const update = () => {
    const at = typed();
    if (!at) return close();
    const query = at.query.toLowerCase();
    const before = shown[active]?.userId;
    shown = candidates()
      .filter((c) => c.userId.toLowerCase().includes(query) || c.name.toLowerCase().includes(query))
      .slice(0, OPTIONS_MAX);
    if (shown.length === 0) return close();
    active = Math.max(
      0,
      shown.findIndex((c) => c.userId === before),
    );
    draw();
  };

  const pick = (userId: string) => {
    const at = typed();
    if (at) {
      input.setRangeText(`@${userId} `, at.start, input.selectionStart, 'end');
      picked.add(userId);
    }
    close();
    input.focus();
  };

  input.addEventListener('input', update);
  input.addEventListener('click', update);
  input.addEventListener('keyup', (event) => {
    if (['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) update();
  });
  input.addEventListener('blur', close);

  return {
    keydown: (event) => {
      if (list.hidden || event.isComposing || event.altKey || event.ctrlKey || event.metaKey) return false;
      const count = shown.length;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        active = (active + (event.key === 'ArrowDown' ? 1 : count - 1)) % count;
        draw();
      } else if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey) {
        const candidate = shown[active];
        if (candidate) pick(candidate.userId);
      } else if (event.key === 'Escape') close();
      else return false;
      event.preventDefault();
      return true;
    },
    take: (text) => {
      const ids = splitMentions(text, [...picked]).flatMap((part) => (part.userId ? [part.userId] : []));
      picked.clear();
      return [...new Set(ids)];
    },
    reset: () => {
      picked.clear();
      close();
    },
  };
};

/**
 * `mention` events: a chat other than the open one is marked in the list, and announced; a browser
 * notification shows (when permitted) unless the chat is open in a visible tab. A mention of a message
 * already seen (or the agent's own) changes nothing.
 */
export const watchMentions = (options: {
  client: ChatClient;
  store: Store;
  announce: (text: string) => void;
  /** Opens a chat (a click on the notification). */
  open: (chatId: string) => void;
}): void => {
  const { client, store, announce } = options;
  client.on('mention', (message) => {
    const { chatId, seq } = message;
    if (message.senderId === store.me.userId || store.seenThrough(chatId) >= seq) return;
    const open = store.selected?.chatId === chatId;
    const visible = document.visibilityState === 'visible';
    const chat = store.chats.get(chatId);
    const who = message.senderName ?? message.senderId;
    const where = chat ? truncate(chat.subject ?? customerName(chat), 80) : 'a conversation';
    if (!open) {
      store.noteMention(chatId, seq);
      announce(`${who} mentioned you in ${where}`);
    }
    if ((open && visible) || !notificationsOn() || Notification.permission !== 'granted') return;
    try {
      const notification = new Notification(`${who} mentioned you`, {
        body: truncate(message.text || message.attachment?.fileName || where, NOTIFICATION_CHARS),
        tag: `chat-console:mention:${message.messageId}`,
      });
      notification.onclick = () => {
        window.focus();
        options.open(chatId);
        notification.close();
      };
    } catch {
      // some browsers only notify from a service worker
    }
  });
};
