/**
 * One realtime connection per storageKey across same-origin tabs. The leader is the tab holding a Web
 * Lock for its whole life (fallback without Web Locks: a BroadcastChannel heartbeat, the lower tab id
 * winning a tie). The leader relays envelopes, the status and `synced` to the others; followers tell
 * it which chats they follow. A new leader announces itself, and every tab then catches up.
 */
import { randomId } from './socket.ts';
import type { AnyEnvelope, BroadcastChannelLike, LocksLike, Status } from './types.ts';

export type TabMessage =
  | { k: 'hello'; from: string }
  | { k: 'leader'; from: string; status: Status }
  | { k: 'subs'; from: string; chats: Record<string, number>; watch: Record<string, string> | null }
  | { k: 'env'; e: AnyEnvelope }
  | { k: 'status'; s: Status }
  | { k: 'synced'; chats: string[] }
  | { k: 'bye'; from: string };

export interface TabHooks {
  /** This tab became the leader. */
  lead(): void;
  /** This tab stopped leading (fallback election lost a tie). */
  resign(): void;
  /** Another tab is the (new) leader. */
  follow(leaderId: string): void;
  message(message: TabMessage): void;
  /** The status to announce with 'leader'. */
  status(): Status;
}

export class Tabs {
  readonly id = randomId('tab');
  #leader: string | undefined;
  #seenAt = 0;
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  readonly #channel: BroadcastChannelLike;
  readonly #abort = new AbortController();
  #release: (() => void) | undefined;

  constructor(
    name: string,
    Channel: new (name: string) => BroadcastChannelLike,
    locks: LocksLike | undefined,
    private readonly hooks: TabHooks,
    private readonly heartbeatMs = 1000,
  ) {
    this.#channel = new Channel(name);
    this.#channel.onmessage = (event) => this.#receive(event.data as TabMessage);
    this.post({ k: 'hello', from: this.id });
    if (locks) {
      locks
        .request(name, { signal: this.#abort.signal }, () => {
          if (this.#abort.signal.aborted) return Promise.resolve();
          this.#lead();
          return new Promise<void>((resolve) => (this.#release = resolve));
        })
        .catch(() => {});
    } else {
      this.#seenAt = Date.now();
      this.#heartbeat = setInterval(() => {
        if (this.leader) this.#announce();
        else if (Date.now() - this.#seenAt > 3 * heartbeatMs) this.#lead();
      }, heartbeatMs);
    }
  }

  get leader(): boolean {
    return this.#leader === this.id;
  }

  post(message: TabMessage): void {
    try {
      this.#channel.postMessage(message);
    } catch {
      // the channel is closed
    }
  }

  close(): void {
    this.post({ k: 'bye', from: this.id });
    this.#abort.abort();
    this.#release?.();
    clearInterval(this.#heartbeat);
    this.#channel.onmessage = null;
    this.#channel.close();
  }

  #lead(): void {
    this.#leader = this.id;
    this.hooks.lead();
    this.#announce();
  }

  #announce(): void {
    this.post({ k: 'leader', from: this.id, status: this.hooks.status() });
  }

  #receive(message: TabMessage): void {
    if (message.k === 'hello' && this.leader) this.#announce();
    else if (message.k === 'leader') {
      this.#seenAt = Date.now();
      if (message.from === this.#leader) return this.hooks.message(message);
      if (this.leader) {
        // Two leaders (fallback election only): the lower id keeps the lead.
        if (this.id < message.from) return this.#announce();
        this.hooks.resign();
      }
      this.#leader = message.from;
      this.hooks.follow(message.from);
      this.hooks.message(message);
    } else if (message.k === 'bye' && message.from === this.#leader && !this.#release) {
      this.#seenAt = 0; // fallback election: claim at the next heartbeat
      this.#leader = undefined;
    } else this.hooks.message(message);
  }
}
