/**
 * The console's state: the listed chats, the selected one, unread counts, unseen mentions, last-message
 * previews and presence (per user: pushed `presence` envelopes win over reads that started before
 * them). Render functions read it and subscribe to its topics; nothing else keeps copies.
 */
import type { Chat, Message } from '../sdk/index.ts';
import { unreadCount } from '#shared/domain/unread.ts';

export type Topic = 'list' | 'selected' | 'presence';

/**
 * Whether a chat matches a list filter, where the console can tell without the server: status,
 * assignee and plain `metadata__key=value` conditions; undefined when another condition decides.
 * (A connection that both watches and subscribes to a chat receives each change once per role with the
 * same id, so the SDK reports the first copy: for the open chat, `leftFilter` may be missing.)
 */
export const matchesLocally = (chat: Chat, filter: Readonly<Record<string, string>>): boolean | undefined => {
  let known = true;
  for (const [name, value] of Object.entries(filter)) {
    if (name === 'status') {
      if (chat.status !== value) return false;
    } else if (name === 'assignee') {
      if (chat.assignee !== value) return false;
    } else if (name.startsWith('metadata__') && !name.slice(10).includes('__')) {
      let current: unknown = chat.metadata;
      for (const part of name.slice(10).split('.'))
        current =
          current && typeof current === 'object' ? (current as Record<string, unknown>)[part] : undefined;
      const scalar =
        typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean';
      if (!scalar || String(current) !== value) return false;
    } else known = false;
  }
  return known ? true : undefined;
};

/** The ISO time a chat row was last changed at, for "apply only if newer". */
const version = (chat: Chat): string => chat.updatedAt;

export class Store {
  /** The chats the list shows (matching the filter), by id. */
  readonly chats = new Map<string, Chat>();
  /**
   * The last seq the agent has seen per chat: read receipts the server knows (GET /v1/unread, a row's
   * lastReadSeq) and what this browser showed (kept in localStorage, so chats the agent does not take
   * part in count unread messages too).
   */
  private readonly seen = new Map<string, number>();
  /** The last seq of a message mentioning this agent, per chat: the list marks the chat until it is seen. */
  private readonly mentioned = new Map<string, number>();
  /** The last message seen per chat, for the list's preview. */
  readonly lastMessage = new Map<string, Message>();
  /** Online state per user id: presence envelopes (pushed or polled) and batched reads. */
  readonly online = new Map<string, boolean>();
  /** When each user's state was last pushed (a mark): a read started before it must not undo it. */
  private readonly pushed = new Map<string, number>();
  private marks = 0;
  /** The selected chat (kept when it leaves the list's filter). */
  selected: Chat | undefined;
  filter: Record<string, string> = { status: 'open' };
  private readonly listeners = new Map<Topic, Set<() => void>>();

  constructor(readonly me: { readonly userId: string; readonly tenantId: string }) {
    try {
      const saved = JSON.parse(localStorage.getItem(this.seenKey) ?? '{}') as Record<string, number>;
      for (const [chatId, seq] of Object.entries(saved))
        if (typeof seq === 'number') this.seen.set(chatId, seq);
    } catch {
      // a damaged entry only loses unread counts
    }
  }

  private get seenKey(): string {
    return `chat-console:seen:${this.me.tenantId}:${this.me.userId}`;
  }

  /** Unread messages of a chat for this agent. */
  unreadOf(chat: Chat): number {
    return unreadCount(chat.lastSeq, Math.max(this.seen.get(chat.chatId) ?? 0, chat.lastReadSeq ?? 0));
  }

  /** The last seq of a chat the agent has seen (0: none known). */
  seenThrough(chatId: string): number {
    return Math.max(this.seen.get(chatId) ?? 0, this.chats.get(chatId)?.lastReadSeq ?? 0);
  }

  /** A message the agent has not seen yet mentions them: the list marks the chat ("@"). */
  mentionedIn(chatId: string): boolean {
    return (this.mentioned.get(chatId) ?? 0) > this.seenThrough(chatId);
  }

  /** A message of the chat (`seq`) mentions the agent. */
  noteMention(chatId: string, seq: number): void {
    if ((this.mentioned.get(chatId) ?? 0) >= seq) return;
    this.mentioned.set(chatId, seq);
    this.emit('list');
  }

  /** The agent has seen the chat up to `seq`. */
  markSeen(chatId: string, seq: number): void {
    if ((this.seen.get(chatId) ?? 0) >= seq) return;
    this.seen.set(chatId, seq);
    const recent = [...this.seen.entries()].slice(-500); // bounded
    localStorage.setItem(this.seenKey, JSON.stringify(Object.fromEntries(recent)));
    this.emit('list');
  }

  /**
   * Server unread counts (GET /v1/unread) of chats the agent takes part in; a chat with unread mentions
   * is marked until the agent has seen it to its end.
   */
  applyUnread(counts: readonly { chatId: string; unread: number; mentions?: number }[]): void {
    for (const { chatId, unread, mentions } of counts) {
      const chat = this.chats.get(chatId);
      if (chat) this.markSeen(chatId, chat.lastSeq - unread);
      if (chat && mentions)
        this.mentioned.set(chatId, Math.max(this.mentioned.get(chatId) ?? 0, chat.lastSeq));
    }
    this.emit('list');
  }

  on(topic: Topic, listener: () => void): () => void {
    const set = this.listeners.get(topic) ?? new Set();
    set.add(listener);
    this.listeners.set(topic, set);
    return () => set.delete(listener);
  }

  emit(topic: Topic): void {
    for (const listener of this.listeners.get(topic) ?? []) listener();
  }

  /** Replaces the list (a fresh GET /v1/chats), keeping rows a live change made newer meanwhile. */
  replaceList(items: readonly Chat[]): void {
    const previous = new Map(this.chats);
    this.chats.clear();
    for (const chat of items) {
      const known = previous.get(chat.chatId);
      this.chats.set(chat.chatId, known && version(known) > version(chat) ? known : chat);
    }
    this.emit('list');
  }

  /**
   * A live change of a chat: shown if it is not older than the row shown; removed from the list when it
   * left the filter. Also refreshes the selected chat.
   */
  applyChange(chat: Chat, leftFilter: boolean): void {
    const known =
      this.chats.get(chat.chatId) ?? (this.selected?.chatId === chat.chatId ? this.selected : undefined);
    if (known && version(known) > version(chat)) return;
    const merged = { ...known, ...chat, participants: chat.participants ?? known?.participants };
    const local = matchesLocally(merged, this.filter);
    const listed = this.chats.has(chat.chatId);
    // The open chat's changes may be its subscription's copy: only trust what the console can check.
    const doubtful = this.selected?.chatId === chat.chatId && !listed && local === undefined;
    if (leftFilter || local === false || doubtful) this.chats.delete(chat.chatId);
    else this.chats.set(chat.chatId, merged);
    this.emit('list');
    if (this.selected?.chatId === chat.chatId) {
      this.selected = merged;
      this.emit('selected');
    }
  }

  /**
   * A newer version of a chat already shown (a reply to assign / close, a subscribed chat's event): the
   * list row and the selection are refreshed, nothing is added to the list.
   */
  applyKnown(chat: Chat): void {
    const known = this.chats.get(chat.chatId);
    if (known && version(known) <= version(chat)) {
      this.chats.set(chat.chatId, {
        ...known,
        ...chat,
        participants: chat.participants ?? known.participants,
      });
      this.emit('list');
    }
    const selected = this.selected;
    if (selected?.chatId === chat.chatId && version(selected) <= version(chat)) {
      this.selected = { ...selected, ...chat, participants: chat.participants ?? selected.participants };
      this.emit('selected');
    }
  }

  select(chat: Chat | undefined): void {
    this.selected = chat;
    this.emit('selected');
    this.emit('list');
  }

  /** A message arrived (history or live): preview, activity time and last seq. */
  noteMessage(message: Message): void {
    const known = this.lastMessage.get(message.chatId);
    if (!known || known.seq <= message.seq) this.lastMessage.set(message.chatId, message);
    const chat = this.chats.get(message.chatId);
    if (chat && message.createdAt > chat.lastActivityAt)
      this.chats.set(chat.chatId, {
        ...chat,
        lastActivityAt: message.createdAt,
        lastSeq: Math.max(chat.lastSeq, message.seq),
      });
    if (message.senderId === this.me.userId) this.markSeen(message.chatId, message.seq);
    this.emit('list');
  }

  /** A presence envelope: the user's state from now on. */
  setOnline(userId: string, online: boolean): void {
    this.pushed.set(userId, ++this.marks);
    if (this.online.get(userId) === online) return;
    this.online.set(userId, online);
    this.emit('presence');
  }

  /** Marks the start of a presence read (GET /v1/presence, a chat's participants): pass it to applyPresenceRead. */
  presenceMark(): number {
    return ++this.marks;
  }

  /** What a read started at `mark` saw, except for users whose presence was pushed since. */
  applyPresenceRead(mark: number, states: Iterable<readonly [string, boolean]>): void {
    let changed = false;
    for (const [userId, online] of states) {
      if ((this.pushed.get(userId) ?? 0) > mark || this.online.get(userId) === online) continue;
      this.online.set(userId, online);
      changed = true;
    }
    if (changed) this.emit('presence');
  }

  /** The list's chats, most recent activity first. */
  ordered(): Chat[] {
    return [...this.chats.values()].sort((a, b) =>
      a.lastActivityAt === b.lastActivityAt
        ? a.chatId.localeCompare(b.chatId)
        : a.lastActivityAt < b.lastActivityAt
          ? 1
          : -1,
    );
  }
}

/** The customer of a chat: the participant who is not staff, else its creator. */
export const customerOf = (chat: Chat): string =>
  chat.participants?.find((p) => p.role === 'visitor' || p.role === 'user')?.userId ?? chat.createdBy;

const metadataString = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() ? value : undefined;

/** A name to show for the chat's customer: a name in its metadata, else the user id. */
export const customerName = (chat: Chat): string => {
  const meta = chat.metadata as Record<string, unknown>;
  const nested = (key: string) => {
    const value = meta[key];
    return value && typeof value === 'object' ? (value as Record<string, unknown>).name : undefined;
  };
  return (
    metadataString(meta.name) ??
    metadataString(meta.visitorName) ??
    metadataString(nested('visitor')) ??
    metadataString(nested('customer')) ??
    customerOf(chat)
  );
};
