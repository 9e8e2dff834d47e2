/**
 * The conversation list: a filter form (status, assignee, metadata conditions in the `metadata__`
 * syntax of GET /v1/chats), the list itself (GET /v1/chats) kept live by `client.watchChats(filter)`
 * (a socket watch, or GET /v1/chats/changes inside the SDK when there is no socket), unread badges,
 * "@" marks of unseen mentions (mentions.ts), presence dots and last-message previews.
 *
 * Presence dots show whether each chat's customer is online: one batched read (GET /v1/presence) for
 * the customers whose state is unknown, then the `presence` envelopes the watching socket receives for
 * the listed chats. Without a socket (or after a reconnect, when pushes may have been missed) the whole
 * list's presence is read again with the list.
 */
import type { ChatClient } from '../sdk/index.ts';
import type { Chat, Message } from '../sdk/index.ts';
import { byId, errorText, h, isolate, timeElement, truncate } from './dom.ts';
import { customerName, customerOf, type Store } from './store.ts';

const PAGE = '50';
/** Users per GET /v1/presence. */
const PRESENCE_BATCH = 100;
const PREVIEW_CHARS = 120;
const STANDARD_FIELDS = ['status', 'assignee', 'updatedAfter'];

/**
 * `department=sales priority__gte=2` (or with the `metadata__` prefix, or `&`-separated) → query
 * parameters. Throws on a condition without `=`.
 */
export const parseMetadataFilter = (text: string): Record<string, string> => {
  const filter: Record<string, string> = {};
  for (const part of text.split(/[\s&]+/).filter(Boolean)) {
    const at = part.indexOf('=');
    if (at <= 0) throw new Error(`"${truncate(part, 40)}" is not a condition such as department=sales`);
    const name = part.slice(0, at);
    const value = decodeURIComponent(part.slice(at + 1));
    const key = name.startsWith('metadata__') || STANDARD_FIELDS.includes(name) ? name : `metadata__${name}`;
    filter[key] = value;
  }
  return filter;
};

export const previewText = (message: Message | undefined): string => {
  if (!message) return 'No messages yet';
  if (message.deletedAt) return 'Message deleted';
  const text = message.text || (message.attachment ? `📎 ${message.attachment.fileName}` : '');
  const who = message.type === 'system' ? '' : message.senderRole === 'agent' ? 'Agent: ' : '';
  return truncate(`${who}${text}`, PREVIEW_CHARS);
};

export interface ChatList {
  /** Reads the list again (GET /v1/chats) and the unread counts, and restarts the live watch. */
  reload(): Promise<void>;
  /**
   * Reads the list again without touching the watch: list changes are live, but a new message in a chat
   * nobody opened changes no chat record, so previews, order and unread counts catch up this way.
   */
  refresh(): Promise<void>;
  /** Stops the live watch (tab hidden while polling, sign-out). */
  pause(): void;
  /** Watches again and reloads. */
  resume(): Promise<void>;
  /** The chat `step` places after (1) or before (-1) the selected one. */
  neighbour(step: 1 | -1): Chat | undefined;
}

export const createChatList = (options: {
  client: ChatClient;
  store: Store;
  onSelect: (chat: Chat) => void;
}): ChatList => {
  const { client, store } = options;
  const list = byId<HTMLUListElement>('chat-list');
  const form = byId<HTMLFormElement>('filter-form');
  const status = byId<HTMLSelectElement>('filter-status');
  const assignee = byId<HTMLSelectElement>('filter-assignee');
  const assigneeOther = byId<HTMLInputElement>('filter-assignee-other');
  const assigneeOtherField = byId('filter-assignee-other-field');
  const metadata = byId<HTMLInputElement>('filter-metadata');
  const error = byId('filter-error');
  const count = byId('chat-count');
  let unwatch: (() => void) | undefined;
  let generation = 0;
  const previewsAsked = new Map<string, number>();
  /** Customers whose presence was read (or is being read); pushes keep them current while live. */
  const presenceAsked = new Set<string>();
  /** Pushes may have been missed (not live since the last full read): read everyone's again. */
  let presenceStale = true;

  const readFilter = (): Record<string, string> => {
    const filter: Record<string, string> = {};
    if (status.value) filter.status = status.value;
    if (assignee.value === 'me') filter.assignee = store.me.userId;
    if (assignee.value === 'other' && assigneeOther.value.trim())
      filter.assignee = assigneeOther.value.trim();
    return { ...filter, ...parseMetadataFilter(metadata.value) };
  };

  const showError = (text?: string) => {
    error.textContent = text ?? '';
    error.hidden = !text;
  };

  /** Last messages of rows whose preview is unknown or behind, a few requests at a time. */
  const fetchPreviews = async () => {
    const wanted = store
      .ordered()
      .filter(
        (chat) =>
          chat.lastSeq > 0 &&
          (store.lastMessage.get(chat.chatId)?.seq ?? 0) < chat.lastSeq &&
          previewsAsked.get(chat.chatId) !== chat.lastSeq,
      )
      .slice(0, 20);
    for (const chat of wanted) previewsAsked.set(chat.chatId, chat.lastSeq);
    const worker = async () => {
      for (let chat = wanted.shift(); chat; chat = wanted.shift()) {
        const items = await client
          .history(chat.chatId, { before: chat.lastSeq + 1, limit: 1 })
          .catch(() => []);
        const last = items.at(-1);
        if (last) store.noteMessage(last);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
  };

  /**
   * Presence of the listed chats' customers not read yet (since `presenceAsked` was cleared), in
   * batches. A failed read (or a server without GET /v1/presence) leaves them unknown until the next
   * full read.
   */
  const fetchPresence = async () => {
    const wanted = [...new Set(store.ordered().map(customerOf))].filter(
      (userId) => !presenceAsked.has(userId),
    );
    for (const userId of wanted) presenceAsked.add(userId);
    for (let start = 0; start < wanted.length; start += PRESENCE_BATCH) {
      const mark = store.presenceMark();
      const batch = wanted.slice(start, start + PRESENCE_BATCH);
      const read = await client.getPresence(batch).catch(() => undefined);
      if (read)
        store.applyPresenceRead(
          mark,
          read.items.map((item) => [item.userId, item.online] as const),
        );
    }
  };
  /** Reads every listed customer's presence again (with the next fetchPresence). */
  const forgetPresence = () => {
    presenceAsked.clear();
    presenceStale = client.status !== 'live';
  };
  client.on('status', (status) => {
    if (status !== 'live') presenceStale = true;
    else if (presenceStale && store.chats.size > 0) {
      forgetPresence();
      void fetchPresence();
    }
  });

  /**
   * Reads the list (and unread counts) again. `watch`: (re)starts the live watch first, so a change
   * racing the read still arrives (and wins only if newer).
   */
  const load = async (watch: boolean) => {
    const mine = ++generation;
    let filter: Record<string, string>;
    try {
      filter = watch ? readFilter() : store.filter;
    } catch (cause) {
      showError(errorText(cause));
      return;
    }
    store.filter = filter;
    try {
      if (watch) {
        unwatch?.();
        unwatch = client.watchChats(filter);
      }
      const [{ items }, unread] = await Promise.all([
        client.listChats({ ...filter, limit: PAGE }),
        client.getUnread().catch(() => ({ chats: [] as { chatId: string; unread: number }[] })),
      ]);
      if (mine !== generation) return;
      showError();
      // A new watch pushes only from now on, and without a socket nothing pushes presence: every
      // listed customer's presence is read again with the list (the render below reads it).
      if (watch || presenceStale || client.status !== 'live') forgetPresence();
      store.replaceList(items);
      store.applyUnread(unread.chats);
      void fetchPreviews();
    } catch (cause) {
      if (mine !== generation) return;
      showError(`The list could not be loaded: ${errorText(cause)}`);
      if (watch) store.replaceList([]);
    }
  };
  const reload = () => load(true);

  const presenceDot = (chat: Chat) => {
    const online = store.online.get(customerOf(chat));
    const label =
      online === undefined ? 'Customer presence unknown' : online ? 'Customer online' : 'Customer offline';
    return h('span', {
      class: 'presence',
      'data-online': online === undefined ? 'unknown' : String(online),
      role: 'img',
      'aria-label': label,
      title: label,
    });
  };

  /** The row's content; rebuilt only when what it shows changed (`data-sig`). */
  const fill = (button: HTMLButtonElement, chat: Chat) => {
    const unread = store.unreadOf(chat);
    const selected = store.selected?.chatId === chat.chatId;
    const preview = previewText(store.lastMessage.get(chat.chatId));
    const online = store.online.get(customerOf(chat));
    const mentioned = !selected && store.mentionedIn(chat.chatId);
    const signature = JSON.stringify([
      mentioned,
      chat.updatedAt,
      chat.lastActivityAt,
      unread,
      selected,
      preview,
      online,
      chat.status,
    ]);
    if (button.dataset.sig === signature) return;
    button.dataset.sig = signature;
    button.dataset.status = chat.status;
    if (selected) button.setAttribute('aria-current', 'true');
    else button.removeAttribute('aria-current');
    const title = chat.subject ?? customerName(chat);
    button.replaceChildren(
      h(
        'span',
        { class: 'chat-item-top' },
        presenceDot(chat),
        isolate(truncate(title, 80), 'chat-title'),
        timeElement(chat.lastActivityAt),
      ),
      h('span', { class: 'chat-preview', 'data-testid': 'chat-preview' }, isolate(preview)),
      h(
        'span',
        { class: 'chat-item-meta' },
        chat.subject ? isolate(truncate(customerName(chat), 40), 'chat-customer') : null,
        chat.status === 'closed' ? h('span', { class: 'tag tag-closed' }, 'Closed') : null,
        chat.assignee
          ? h(
              'span',
              { class: 'tag' },
              chat.assignee === store.me.userId ? 'Mine' : isolate(truncate(chat.assignee, 30)),
            )
          : h('span', { class: 'tag tag-unassigned' }, 'Unassigned'),
        mentioned
          ? h(
              'span',
              {
                class: 'badge badge-mention',
                'data-testid': 'mentioned',
                role: 'img',
                'aria-label': 'Mentioned',
                title: 'Mentioned',
              },
              '@',
            )
          : null,
        unread > 0
          ? h(
              'span',
              { class: 'badge', 'data-testid': 'unread', 'aria-label': `${unread} unread` },
              String(unread),
            )
          : null,
      ),
    );
  };

  /** Keyed rows: existing buttons stay (focus and clicks in flight survive updates), order follows activity. */
  const rows = new Map<string, HTMLLIElement>();
  const render = () => {
    const chats = store.ordered();
    const shown = new Set(chats.map((chat) => chat.chatId));
    for (const [chatId, row] of rows) {
      if (shown.has(chatId)) continue;
      row.remove();
      rows.delete(chatId);
    }
    let cursor: ChildNode | null = list.firstChild;
    for (const chat of chats) {
      let row = rows.get(chat.chatId);
      if (!row) {
        const chatId = chat.chatId;
        const button = h('button', {
          type: 'button',
          class: 'chat-item',
          'data-testid': 'chat-item',
          'data-chat-id': chatId,
        });
        button.addEventListener('click', () => {
          const current = store.chats.get(chatId);
          if (current) options.onSelect(current);
        });
        row = h('li', {}, button);
        rows.set(chatId, row);
      }
      fill(row.firstElementChild as HTMLButtonElement, chat);
      if (row === cursor) cursor = cursor.nextSibling;
      else list.insertBefore(row, cursor);
    }
    count.textContent = chats.length === 1 ? '1 conversation' : `${chats.length} conversations`;
    void fetchPreviews();
    void fetchPresence();
  };

  store.on('list', render);
  store.on('presence', render);
  client.on('chats', ({ chat, leftFilter }) => store.applyChange(chat, leftFilter));

  assignee.addEventListener('change', () => {
    assigneeOtherField.hidden = assignee.value !== 'other';
    if (assignee.value === 'other') assigneeOther.focus();
    else void reload();
  });
  status.addEventListener('change', () => void reload());
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void reload();
  });

  return {
    reload,
    refresh: () => load(false),
    pause: () => {
      unwatch?.();
      unwatch = undefined;
    },
    resume: reload,
    neighbour: (step) => {
      const chats = store.ordered();
      const at = chats.findIndex((chat) => chat.chatId === store.selected?.chatId);
      if (at < 0) return step === 1 ? chats[0] : chats.at(-1);
      return chats[at + step];
    },
  };
};
