/**
 * ChatClient: HTTP calls (timeout, abort, one token renewal on expiry), the realtime transport (socket,
 * polling fallback; shared across tabs through the leader), in-order delivery and the persisted outbox.
 *
 *   const client = new ChatClient({ httpUrl, token, storageKey: `chat:${tenantId}:${userId}`, tabs: true });
 *   client.on('message', render);
 *   await client.connect();
 *   await client.subscribe(chatId);          // history, then live, in seq order, each once
 *   await client.send(chatId, 'Hello');      // through the outbox, retried until acked
 */
import { backoffDelay } from './backoff.ts';
import { chatPath, Delivery } from './delivery.ts';
import { Emitter } from './emitter.ts';
import { ApiError, isExpired, isRetryable, requestJson } from './http.ts';
import { Outbox } from './outbox.ts';
import { Realtime } from './realtime.ts';
import { randomId } from './socket.ts';
import { type TabMessage, Tabs } from './tabs.ts';
import type {
  Block,
  Chat,
  ChatClientOptions,
  ChatEvents,
  CreateChatInput,
  Message,
  OutboxEntry,
  PatchChatInput,
  Status,
  Timing,
} from './types.ts';

export const DEFAULT_TIMING: Timing = {
  requestTimeoutMs: 15_000,
  pingMs: 4 * 60_000,
  maxConnectionMs: 110 * 60_000,
  openTimeoutMs: 10_000,
  minBackoffMs: 500,
  maxBackoffMs: 30_000,
  failuresBeforePolling: 2,
  probeMs: 60_000,
  pollWaitSeconds: 20,
  heartbeatMs: 1_000,
};

interface Waiter {
  resolve(message: Message): void;
  reject(error: unknown): void;
}

const query = (params: Record<string, string | number | undefined> = {}): string => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};

const defaultStorage = (): ChatClientOptions['storage'] => {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined;
  }
};

export class ChatClient {
  readonly #options: ChatClientOptions;
  readonly #timing: Timing;
  readonly #events = new Emitter<ChatEvents>();
  readonly #abort = new AbortController();
  readonly #delivery: Delivery;
  readonly #outbox: Outbox;
  readonly #waiters = new Map<string, Waiter[]>();
  readonly #flushing = new Set<string>();
  #wakers: (() => void)[] = [];
  #engine: Realtime | undefined;
  #tabs: Tabs | undefined;
  /** Leader: what the other tabs follow. */
  readonly #remote = new Map<
    string,
    { chats: Record<string, number>; watch: Record<string, string> | null }
  >();
  #watch: Record<string, string> | undefined;
  #status: Status = 'idle';
  #started = false;
  #renewed: string | undefined;
  #renewal: Promise<string> | undefined;
  readonly #online = (): void => this.#engine?.nudge();

  constructor(options: ChatClientOptions) {
    this.#options = { ...options, httpUrl: options.httpUrl.replace(/\/$/, '') };
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
    const { minBackoffMs: minMs, maxBackoffMs: maxMs } = this.#timing;
    this.#delivery = new Delivery(this.#events, this.request.bind(this), {
      minMs,
      maxMs,
      signal: this.#abort.signal,
    });
    const storage = 'storage' in options ? options.storage : defaultStorage();
    this.#outbox = new Outbox(storage, `${options.storageKey ?? 'chat'}:outbox`, (entries) =>
      this.#events.emit('outbox', entries),
    );
  }

  get status(): Status {
    return this.#status;
  }

  on<K extends keyof ChatEvents>(type: K, fn: (value: ChatEvents[K]) => void): () => void {
    return this.#events.on(type, fn);
  }

  off<K extends keyof ChatEvents>(type: K, fn: (value: ChatEvents[K]) => void): void {
    this.#events.off(type, fn);
  }

  // ---- HTTP ----

  async #token(): Promise<string> {
    const { token } = this.#options;
    return this.#renewed ?? (typeof token === 'function' ? await token() : token);
  }

  /** One API call; on a 401 saying the token expired, renewToken is called once and the call retried. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    options: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    const call = (token: string): Promise<T> =>
      requestJson<T>(`${this.#options.httpUrl}${path}`, {
        method,
        token,
        body,
        fetch: this.#options.fetch,
        timeoutMs: options.timeoutMs ?? this.#timing.requestTimeoutMs,
        signal: options.signal,
      });
    const used = await this.#token();
    try {
      return await call(used);
    } catch (error) {
      const renew = this.#options.renewToken;
      if (!renew || !isExpired(error)) throw error;
      if (this.#renewed === undefined || this.#renewed === used) {
        this.#renewal ??= renew().finally(() => (this.#renewal = undefined));
        this.#renewed = await this.#renewal;
      }
      return call(this.#renewed);
    }
  }

  createChat(input: CreateChatInput = {}): Promise<Chat> {
    return this.request('POST', '/v1/chats', input);
  }

  getChat(chatId: string): Promise<Chat> {
    return this.request('GET', chatPath(chatId));
  }

  listChats(params: Record<string, string> = {}): Promise<{ items: Chat[]; nextCursor?: string }> {
    return this.request('GET', `/v1/chats${query(params)}`);
  }

  updateChat(chatId: string, patch: PatchChatInput): Promise<Chat> {
    return this.request('PATCH', chatPath(chatId), patch);
  }

  assignChat(chatId: string, agentId: string): Promise<Chat> {
    return this.request('POST', `${chatPath(chatId)}/assign`, { agentId });
  }

  listAudit(
    chatId: string,
    params: { limit?: number; cursor?: string } = {},
  ): Promise<{ items: Record<string, unknown>[]; nextCursor?: string }> {
    return this.request('GET', `${chatPath(chatId)}/audit${query(params)}`);
  }

  block(userId: string): Promise<Block> {
    return this.request('POST', '/v1/blocks', { userId });
  }

  unblock(userId: string): Promise<void> {
    return this.request('DELETE', `/v1/blocks/${encodeURIComponent(userId)}`);
  }

  getStats(): Promise<Record<string, number>> {
    return this.request('GET', '/v1/stats');
  }

  getUnread(): Promise<{ total: number; chats: { chatId: string; unread: number }[] }> {
    return this.request('GET', '/v1/unread');
  }

  /** Older messages (ascending seq), not emitted as events. */
  async history(chatId: string, params: { before?: number; limit?: number } = {}): Promise<Message[]> {
    const page = await this.request<{ items: Message[] }>(
      'GET',
      `${chatPath(chatId)}/messages${query(params)}`,
    );
    return page.items;
  }

  editMessage(chatId: string, messageId: string, text: string): Promise<Message> {
    return this.request('PATCH', `${chatPath(chatId)}/messages/${encodeURIComponent(messageId)}`, { text });
  }

  deleteMessage(chatId: string, messageId: string): Promise<Message> {
    return this.request('DELETE', `${chatPath(chatId)}/messages/${encodeURIComponent(messageId)}`);
  }

  /** A frame over this tab's live socket, else the HTTP route. */
  async #either(frame: Record<string, unknown>, path: string, body: unknown): Promise<void> {
    if (this.#engine?.live) {
      try {
        await this.#engine.frame(frame);
        return;
      } catch (error) {
        if (!isRetryable(error)) throw error;
      }
    }
    await this.request('POST', path, body);
  }

  markRead(chatId: string, seq: number): Promise<void> {
    return this.#either({ action: 'markRead', chatId, seq }, `${chatPath(chatId)}/read`, { seq });
  }

  typing(chatId: string, isTyping: boolean): Promise<void> {
    return this.#either({ action: 'typing', chatId, isTyping }, `${chatPath(chatId)}/typing`, { isTyping });
  }

  /** Uploads a file straight to storage (presigned POST); send it with send(chatId, { attachmentId }). */
  async upload(
    chatId: string,
    file: Blob & { name?: string },
    options: { onProgress?: (fraction: number) => void } = {},
  ): Promise<{ attachmentId: string }> {
    const { attachmentId, upload } = await this.request<{
      attachmentId: string;
      upload: { url: string; fields: Record<string, string> };
    }>('POST', `${chatPath(chatId)}/attachments`, {
      fileName: file.name || 'file',
      contentType: file.type || 'application/octet-stream',
      size: file.size,
    });
    const form = new FormData();
    for (const [key, value] of Object.entries(upload.fields)) form.append(key, value);
    form.append('file', file);
    const { onProgress } = options;
    if (onProgress && typeof XMLHttpRequest === 'function') {
      await new Promise<void>((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        xhr.open('POST', upload.url);
        xhr.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
        xhr.onload = () =>
          xhr.status < 300 ? resolve() : reject(new ApiError(xhr.status, 'upload_failed', xhr.responseText));
        xhr.onerror = () => reject(new ApiError(0, 'network', 'the upload failed'));
        xhr.send(form);
      });
    } else {
      const response = await (this.#options.fetch ?? fetch)(upload.url, { method: 'POST', body: form });
      if (!response.ok) throw new ApiError(response.status, 'upload_failed', await response.text());
    }
    onProgress?.(1);
    return { attachmentId };
  }

  async attachmentUrl(attachmentId: string): Promise<string> {
    const { url } = await this.request<{ url: string }>(
      'GET',
      `/v1/attachments/${encodeURIComponent(attachmentId)}`,
    );
    return url;
  }

  // ---- realtime ----

  #setStatus(status: Status): void {
    if (status === this.#status) return;
    this.#status = status;
    this.#events.emit('status', status);
    if (status === 'live' || status === 'polling') this.#wake();
  }

  /** Starts the realtime transport; resolves once 'live' or 'polling'. */
  connect(): Promise<void> {
    if (this.#status === 'closed') return Promise.reject(new ApiError(0, 'closed', 'the client is closed'));
    if (!this.#started) this.#start();
    if (this.#status === 'live' || this.#status === 'polling') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on('status', (status) => {
        if (status === 'live' || status === 'polling') resolve();
        else if (status === 'closed') reject(new ApiError(0, 'closed', 'the client was closed'));
        else return;
        off();
      });
    });
  }

  #start(): void {
    this.#started = true;
    this.#setStatus('connecting');
    globalThis.addEventListener?.('online', this.#online);
    const Channel =
      this.#options.BroadcastChannel ??
      (globalThis.BroadcastChannel as unknown as ChatClientOptions['BroadcastChannel']);
    if (this.#options.tabs && Channel) {
      const locks =
        this.#options.locks === undefined
          ? (globalThis.navigator?.locks as unknown as ChatClientOptions['locks'])
          : this.#options.locks;
      this.#tabs = new Tabs(
        `${this.#options.storageKey ?? 'chat'}:tabs`,
        Channel,
        locks ?? undefined,
        {
          lead: () => this.#lead(),
          resign: () => this.#resign(),
          follow: () => this.#follow(),
          message: (message) => this.#tabMessage(message),
          status: () => this.#status,
        },
        this.#timing.heartbeatMs,
      );
    } else this.#lead();
    this.#flush();
  }

  /** This tab runs the transport (alone, or as the leader of its tabs). */
  #lead(): void {
    if (this.#engine) return;
    const tabs = (): Tabs | undefined => (this.#tabs?.leader ? this.#tabs : undefined);
    const engine = new Realtime(
      this.request.bind(this),
      this.#options.WebSocket ?? (globalThis.WebSocket as unknown as ChatClientOptions['WebSocket']),
      this.#timing,
      this.#options.transport ?? 'auto',
      {
        envelope: (e) => {
          if (this.#engine !== engine) return;
          this.#delivery.envelope(e);
          tabs()?.post({ k: 'env', e });
        },
        status: (s) => {
          if (this.#engine !== engine) return;
          this.#setStatus(s);
          tabs()?.post({ k: 'status', s });
        },
        synced: (chats) => {
          if (this.#engine !== engine) return;
          this.#catchUp(chats);
          tabs()?.post({ k: 'synced', chats });
        },
        error: (error) => this.#events.emit('error', error),
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

  /** A (new) leader: tell it what this tab follows, and catch up in case the handover lost anything. */
  #follow(): void {
    this.#announce();
    this.#catchUp(this.#delivery.chatIds());
  }

  #announce(): void {
    const tabs = this.#tabs;
    if (!tabs || tabs.leader) return;
    const chats: Record<string, number> = {};
    for (const chatId of this.#delivery.chatIds()) chats[chatId] = this.#delivery.lastSeq(chatId) ?? 0;
    tabs.post({ k: 'subs', from: tabs.id, chats, watch: this.#watch ?? null });
  }

  #tabMessage(message: TabMessage): void {
    const leader = this.#tabs?.leader;
    switch (message.k) {
      case 'subs':
      case 'bye':
        if (!leader) return;
        if (message.k === 'subs') this.#remote.set(message.from, message);
        else this.#remote.delete(message.from);
        return this.#reconcile();
      case 'env':
        if (!leader) this.#delivery.envelope(message.e);
        return;
      case 'status':
      case 'leader':
        if (!leader) this.#setStatus(message.k === 'status' ? message.s : message.status);
        return;
      case 'synced':
        if (!leader) this.#catchUp(message.chats.filter((chatId) => this.#delivery.has(chatId)));
    }
  }

  /** Leader: the transport follows the chats (and the watch) of this tab and of every other tab. */
  #reconcile(): void {
    const engine = this.#engine;
    if (!engine) return;
    const wanted = new Map<string, number>();
    let watch = this.#watch;
    for (const remote of this.#remote.values()) {
      for (const [chatId, after] of Object.entries(remote.chats)) wanted.set(chatId, after);
      watch ??= remote.watch ?? undefined;
    }
    for (const chatId of this.#delivery.chatIds()) wanted.set(chatId, this.#delivery.lastSeq(chatId) ?? 0);
    for (const chatId of engine.chatIds()) if (!wanted.has(chatId)) engine.remove(chatId);
    for (const [chatId, after] of wanted) void engine.add(chatId, after);
    engine.watch(watch);
  }

  #catchUp(chatIds: string[]): void {
    for (const chatId of chatIds) this.#delivery.catchUp(chatId).catch(() => {});
  }

  /** Stops everything: no socket, poll, timer or tab role survives. */
  close(): void {
    if (this.#status === 'closed') return;
    this.#abort.abort();
    this.#resign();
    this.#tabs?.close();
    this.#tabs = undefined;
    globalThis.removeEventListener?.('online', this.#online);
    this.#wake();
    this.#setStatus('closed');
  }

  // ---- delivery ----

  /** History after `after` (default 0), then live messages, in seq order; survives reconnects. */
  async subscribe(chatId: string, options: { after?: number } = {}): Promise<void> {
    if (!this.#delivery.has(chatId)) {
      this.#delivery.add(chatId, options.after ?? 0);
      // With a live socket, wait for the subscription's ack before catching up (the contract's order).
      if (this.#engine) await this.#engine.add(chatId, options.after ?? 0);
      else this.#announce();
    }
    await this.#delivery.settle(chatId);
  }

  async unsubscribe(chatId: string): Promise<void> {
    this.#delivery.remove(chatId);
    if (this.#engine) this.#reconcile();
    else this.#announce();
  }

  lastSeq(chatId: string): number | undefined {
    return this.#delivery.lastSeq(chatId);
  }

  /** Live list: `chats` events for the tenant's chats matching `filter` (agents, services). */
  watchChats(filter: Record<string, string>): () => void {
    this.#watch = filter;
    this.#delivery.watching = true;
    const apply = (): void => (this.#engine ? this.#reconcile() : this.#announce());
    apply();
    return () => {
      if (this.#watch !== filter) return;
      this.#watch = undefined;
      this.#delivery.watching = false;
      apply();
    };
  }

  // ---- outbox ----

  /** Messages not acknowledged yet (all chats, or one). */
  pending(chatId?: string): OutboxEntry[] {
    return this.#outbox.list(chatId);
  }

  /**
   * Queues a message in the persisted outbox and sends it, retrying with the same clientMessageId until
   * the server acknowledges it; resolves with the stored message.
   */
  send(
    chatId: string,
    content: string | { text?: string; attachmentId?: string },
    options: { clientMessageId?: string } = {},
  ): Promise<Message> {
    const { text, attachmentId } = typeof content === 'string' ? { text: content } : content;
    const entry: OutboxEntry = {
      clientMessageId: options.clientMessageId ?? randomId('cm'),
      chatId,
      ...(text ? { text } : {}),
      ...(attachmentId ? { attachmentId } : {}),
      createdAt: new Date().toISOString(),
    };
    const done = new Promise<Message>((resolve, reject) => {
      const list = this.#waiters.get(entry.clientMessageId) ?? [];
      list.push({ resolve, reject });
      this.#waiters.set(entry.clientMessageId, list);
    });
    this.#outbox.add(entry);
    void this.#flushChat(chatId);
    return done;
  }

  /** Sends every stored entry (after a reload too). */
  #flush(): void {
    for (const chatId of new Set(this.#outbox.list().map((entry) => entry.chatId)))
      void this.#flushChat(chatId);
  }

  #settle(clientMessageId: string, outcome: { message: Message } | { error: unknown }): void {
    this.#outbox.remove(clientMessageId);
    for (const waiter of this.#waiters.get(clientMessageId) ?? []) {
      if ('message' in outcome) waiter.resolve(outcome.message);
      else waiter.reject(outcome.error);
    }
    this.#waiters.delete(clientMessageId);
  }

  /** One chat's entries, oldest first, one at a time (so they keep their order). */
  async #flushChat(chatId: string): Promise<void> {
    if (this.#flushing.has(chatId)) return;
    this.#flushing.add(chatId);
    try {
      for (let attempt = 0; !this.#abort.signal.aborted;) {
        const entry = this.#outbox.list(chatId)[0];
        if (!entry) return;
        try {
          const message = await this.#post(entry);
          attempt = 0;
          this.#settle(entry.clientMessageId, { message });
          this.#delivery.ingest(message);
        } catch (error) {
          // A file message may be sent before storage has confirmed its upload (409): retry a while.
          const early =
            entry.attachmentId && error instanceof ApiError && error.status === 409 && attempt < 8;
          if (!isRetryable(error) && !early) {
            this.#events.emit('error', error);
            this.#settle(entry.clientMessageId, { error });
            continue;
          }
          await this.#sleep(backoffDelay(attempt++, this.#timing.minBackoffMs, this.#timing.maxBackoffMs));
        }
      }
    } finally {
      this.#flushing.delete(chatId);
    }
  }

  async #post(entry: OutboxEntry): Promise<Message> {
    const { chatId, clientMessageId, text, attachmentId } = entry;
    const body = { clientMessageId, type: attachmentId ? 'file' : 'text', text, attachmentId };
    if (this.#engine?.live) {
      const data = await this.#engine.frame({ action: 'sendMessage', chatId, ...body });
      return data.message as Message;
    }
    return this.request('POST', `${chatPath(chatId)}/messages`, body);
  }

  /** A backoff wait that a reconnect (or close) cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#wakers = this.#wakers.filter((w) => w !== wake);
        resolve();
      }, ms);
      this.#wakers.push(wake);
    });
  }

  #wake(): void {
    const wakers = this.#wakers;
    this.#wakers = [];
    for (const wake of wakers) wake();
  }
}
