/**
 * Messages not yet acknowledged, persisted under `${storageKey}:outbox` so a reload keeps them. Every
 * change re-reads the stored list first, so tabs sharing the storage do not overwrite each other.
 */
import type { OutboxEntry, StorageLike } from './types.ts';

export class Outbox {
  #memory: OutboxEntry[] = [];
  /** The storage failed once: the in-memory list is the truth from then on. */
  #broken = false;

  constructor(
    private readonly storage: StorageLike | undefined,
    private readonly key: string,
    private readonly changed: (entries: OutboxEntry[]) => void,
  ) {}

  list(chatId?: string): OutboxEntry[] {
    let entries = this.#memory;
    if (this.storage && !this.#broken) {
      try {
        const stored = this.storage.getItem(this.key);
        entries = stored ? (JSON.parse(stored) as OutboxEntry[]) : [];
      } catch {
        this.#broken = true;
      }
    }
    return chatId === undefined ? entries : entries.filter((entry) => entry.chatId === chatId);
  }

  add(entry: OutboxEntry): void {
    const entries = this.list();
    if (entries.some((e) => e.clientMessageId === entry.clientMessageId)) return;
    this.#save([...entries, entry]);
  }

  remove(clientMessageId: string): void {
    const entries = this.list();
    const rest = entries.filter((entry) => entry.clientMessageId !== clientMessageId);
    if (rest.length !== entries.length) this.#save(rest);
  }

  #save(entries: OutboxEntry[]): void {
    this.#memory = entries;
    try {
      if (entries.length > 0) this.storage?.setItem(this.key, JSON.stringify(entries));
      else this.storage?.removeItem(this.key);
    } catch {
      this.#broken = true; // full or unavailable storage: the in-memory copy still sends
    }
    this.changed(entries);
  }
}
