/**
 * What announcing the presence changes of one stream batch reads once, however many changes need it:
 * each chat's entitled subscribers and each tenant's watchers — one snapshot per batch, as the chat
 * fan-out reads a chat's subscribers once per batch. A storm's batch of transitions of users who share
 * chats and a tenant then reads each of those once instead of once per user.
 */
export interface Watcher {
  readonly connectionId: string;
  readonly filter: Record<string, string>;
}

export interface PresenceReads {
  subscribers(chatId: string): Promise<string[]>;
  /** The tenant's watchers (none when they cannot be read: presence is best effort). */
  watchers(tenantId: string): Promise<Watcher[]>;
  /** Connections found gone while announcing: left out of the chat's later announcements. */
  forget(chatId: string, connectionIds: readonly string[]): void;
}

export const presenceReads = (
  readSubscribers: (chatId: string) => Promise<string[]>,
  readWatchers: (tenantId: string) => Promise<Watcher[]>,
): PresenceReads => {
  const subscribers = new Map<string, Promise<string[]>>();
  const watchers = new Map<string, Promise<Watcher[]>>();
  const once = <T>(cache: Map<string, Promise<T>>, key: string, read: () => Promise<T>): Promise<T> => {
    let found = cache.get(key);
    if (!found) cache.set(key, (found = read()));
    return found;
  };
  return {
    subscribers: (chatId) => once(subscribers, chatId, () => readSubscribers(chatId)),
    watchers: (tenantId) => once(watchers, tenantId, () => readWatchers(tenantId).catch(() => [])),
    forget: (chatId, connectionIds) => {
      const before = subscribers.get(chatId);
      const gone = new Set(connectionIds);
      if (before)
        subscribers.set(
          chatId,
          before.then((ids) => ids.filter((id) => !gone.has(id))),
        );
    },
  };
};
