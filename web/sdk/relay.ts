/**
 * Who runs the realtime transport: this tab alone, or the leader of the tabs sharing a storageKey. The
 * leader's engine follows the chats (and the watch) of every tab and relays envelopes, the status and
 * `synced` to the others; a follower tells the leader what it follows and catches up on a handover.
 */
import { messageCreated } from '#shared/domain/envelopes.ts';
import type { Delivery, Request } from './delivery.ts';
import type { Emitter } from './emitter.ts';
import { Realtime } from './realtime.ts';
import { type TabMessage, Tabs } from './tabs.ts';
import type { ChatClientOptions, ChatEvents, Message, Status, Timing } from './types.ts';

/** What a client's parts share. */
export interface ClientParts {
  options: ChatClientOptions;
  timing: Timing;
  request: Request;
  delivery: Delivery;
  events: Emitter<ChatEvents>;
  /** Aborted when the client closes. */
  signal: AbortSignal;
}

export class Relay {
  readonly #deps: ClientParts;
  /** The status became 'live' or 'polling'. */
  readonly #up: () => void;
  #engine: Realtime | undefined;
  #tabs: Tabs | undefined;
  /** Leader: what the other tabs follow. */
  readonly #remote = new Map<
    string,
    { chats: Record<string, number>; watch: Record<string, string> | null }
  >();
  #watch: Record<string, string> | undefined;
  #status: Status = 'idle';
  readonly #online = (): void => this.#engine?.nudge();

  constructor(deps: ClientParts, up: () => void) {
    this.#deps = deps;
    this.#up = up;
  }

  get status(): Status {
    return this.#status;
  }

  /** This tab's engine while its socket is live. */
  live(): Realtime | undefined {
    return this.#engine?.live ? this.#engine : undefined;
  }

  setStatus(status: Status): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#deps.events.emit('status', status);
    if (status === 'live' || status === 'polling') this.#up();
  }

  start(): void {
    const { options, timing } = this.#deps;
    this.setStatus('connecting');
    globalThis.addEventListener?.('online', this.#online);
    const Channel =
      options.BroadcastChannel ??
      (globalThis.BroadcastChannel as unknown as ChatClientOptions['BroadcastChannel']);
    if (options.tabs && Channel) {
      const locks =
        options.locks === undefined
          ? (globalThis.navigator?.locks as unknown as ChatClientOptions['locks'])
          : options.locks;
      this.#tabs = new Tabs(
        `${options.storageKey ?? 'chat'}:tabs`,
        Channel,
        locks ?? undefined,
        {
          lead: () => this.#lead(),
          resign: () => this.#resign(),
          follow: () => this.#follow(),
          message: (message) => this.#tabMessage(message),
          status: () => this.#status,
        },
        timing.heartbeatMs,
      );
    } else this.#lead();
  }

  /** No engine, tab role or listener survives. */
  close(): void {
    this.#resign();
    this.#tabs?.close();
    this.#tabs = undefined;
    globalThis.removeEventListener?.('online', this.#online);
  }

  /** A new chat: with an engine here, resolves once its subscription is in place; else tells the leader. */
  add(chatId: string, after: number): Promise<void> | undefined {
    if (this.#engine) return this.#engine.add(chatId, after);
    this.#announce();
    return undefined;
  }

  /** This tab's chats changed: the engine (or the leader) follows. */
  changed(): void {
    if (this.#engine) this.#reconcile();
    else this.#announce();
  }

  /**
   * A message this tab's socket sent, acknowledged: the server pushes it to every socket of the chat but
   * the one it came over (the ack carries it), so the other tabs get it from here.
   */
  sent(message: Message): void {
    if (!this.#engine || !this.#tabs?.leader) return;
    this.#tabs.post({ k: 'env', e: messageCreated(message) });
  }

  watchChats(filter: Record<string, string>): () => void {
    const { delivery } = this.#deps;
    this.#watch = filter;
    delivery.watching = true;
    this.changed();
    return () => {
      if (this.#watch !== filter) return;
      this.#watch = undefined;
      delivery.watching = false;
      this.changed();
    };
  }

  /**
   * This tab runs the transport (alone, or as the leader of its tabs). A new leader's engine knows no
   * event log position: the first catch-up of each chat fetches the event log once.
   */
  #lead(): void {
    if (this.#engine) return;
    const { options, timing, request, delivery, events } = this.#deps;
    this.#behind();
    const tabs = (): Tabs | undefined => (this.#tabs?.leader ? this.#tabs : undefined);
    const engine = new Realtime(
      request,
      options.WebSocket ?? (globalThis.WebSocket as unknown as ChatClientOptions['WebSocket']),
      timing,
      options.transport ?? 'auto',
      {
        envelope: (e) => {
          if (this.#engine !== engine) return;
          delivery.envelope(e);
          tabs()?.post({ k: 'env', e });
        },
        status: (s) => {
          if (this.#engine !== engine) return;
          this.setStatus(s);
          tabs()?.post({ k: 'status', s });
        },
        synced: (chats) => {
          if (this.#engine !== engine) return;
          this.#catchUp(chats);
          tabs()?.post({ k: 'synced', chats });
        },
        error: (error) => events.emit('error', error),
      },
    );
    this.#engine = engine;
    this.#reconcile();
    engine.start();
  }

  #resign(): void {
    const engine = this.#engine;
    this.#engine = undefined;
    engine?.stop();
    this.#remote.clear();
  }

  /**
   * A (new) leader: tell it what this tab follows, and catch up (messages and the event log) in case the
   * handover lost anything.
   */
  #follow(): void {
    this.#announce();
    this.#catchUp(this.#behind());
  }

  /** This tab's chats, each marked to fetch the event log once on its next catch-up. */
  #behind(): string[] {
    const { delivery } = this.#deps;
    const chatIds = delivery.chatIds();
    for (const chatId of chatIds) delivery.behind(chatId);
    return chatIds;
  }

  #announce(): void {
    const tabs = this.#tabs;
    if (!tabs || tabs.leader) return;
    const { delivery } = this.#deps;
    const chats: Record<string, number> = {};
    for (const chatId of delivery.chatIds()) chats[chatId] = delivery.lastSeq(chatId) ?? 0;
    tabs.post({ k: 'subs', from: tabs.id, chats, watch: this.#watch ?? null });
  }

  #tabMessage(message: TabMessage): void {
    const leader = this.#tabs?.leader;
    const { delivery } = this.#deps;
    switch (message.k) {
      case 'subs':
      case 'bye':
        if (!leader) return;
        if (message.k === 'subs') this.#remote.set(message.from, message);
        else this.#remote.delete(message.from);
        return this.#reconcile();
      case 'env':
        if (!leader) delivery.envelope(message.e);
        return;
      case 'status':
      case 'leader':
        if (!leader) this.setStatus(message.k === 'status' ? message.s : message.status);
        return;
      case 'synced':
        if (!leader) this.#catchUp(message.chats.filter((chatId) => delivery.has(chatId)));
    }
  }

  /** Leader: the transport follows the chats (and the watch) of this tab and of every other tab. */
  #reconcile(): void {
    const engine = this.#engine;
    if (!engine) return;
    const { delivery } = this.#deps;
    const wanted = new Map<string, number>();
    let watch = this.#watch;
    for (const remote of this.#remote.values()) {
      for (const [chatId, after] of Object.entries(remote.chats)) wanted.set(chatId, after);
      watch ??= remote.watch ?? undefined;
    }
    for (const chatId of delivery.chatIds()) wanted.set(chatId, delivery.lastSeq(chatId) ?? 0);
    for (const chatId of engine.chatIds()) if (!wanted.has(chatId)) engine.remove(chatId);
    for (const [chatId, after] of wanted) void engine.add(chatId, after);
    engine.watch(watch);
  }

  /** Each chat catches up unless it is settled (e.g. its subscribe ack brought everything). */
  #catchUp(chatIds: string[]): void {
    for (const chatId of chatIds) this.#deps.delivery.settle(chatId).catch(() => {});
  }
}
