/**
 * One widget instance: the view, the visitor's session and the SDK client, and what ties them
 * together. The visitor and the chat are created on the first message (not per page view); a stored
 * chat is continued at load. Every tab of one visitor shares one realtime connection (SDK `tabs`).
 */
import {
  ApiError,
  type Chat,
  ChatClient,
  createVisitor,
  getWidgetSettings,
  isRetryable,
  loadConfig,
  type Message,
  type Status,
} from '../sdk/index.ts';
import { fill, tabbables } from './dom.ts';
import { type ItemContext, messageItem, pendingItem, senderName, setTick, typingText } from './messages.ts';
import { applyColors, STRINGS, type Strings, type WidgetOptions } from './options.ts';
import { Session } from './session.ts';
import { buildView, type View } from './view.ts';

export type HostEvent = 'message' | 'open' | 'close' | 'unread' | 'status';
export type Emit = (type: HostEvent, value?: unknown) => void;
/** The SDK's status, or `ready` before the visitor's first message (nothing to connect yet). */
export type WidgetStatus = Status | 'ready';
export interface Profile {
  name?: string;
  email?: string;
}

/** Messages loaded at start and per "Load earlier". */
const PAGE = 25;
const noop = (): void => undefined;

export class Widget {
  private readonly s: Strings;
  private readonly v: View;
  private readonly ctx: ItemContext;
  private ready: Promise<void>;
  private destroyed = false;
  private refreshedAt = 0;
  private httpUrl = '';
  private session: Session | undefined;
  private client: ChatClient | undefined;
  private visitorId: string | undefined;
  private chatId: string | undefined;
  private chat: Chat | undefined;
  private creating: Promise<string> | undefined;
  private readonly items = new Map<number, { m: Message; li: HTMLLIElement }>();
  private readonly pending = new Map<string, HTMLLIElement>();
  private oldest = 1;
  private liveAfter = 0;
  private readSeq = 0;
  private theirReadSeq = 0;
  private unread = 0;
  private isOpen = false;
  private loading = false;
  private reachable = false;
  private greeting: string | undefined;
  private profile: Profile = {};
  private typingSentAt = 0;
  private typingStop: ReturnType<typeof setTimeout> | undefined;
  private typingHide: ReturnType<typeof setTimeout> | undefined;
  private baseTitle: string | undefined;
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly options: WidgetOptions,
    private readonly emit: Emit,
    private readonly scriptSrc: string,
  ) {
    this.s = { ...STRINGS, ...options.strings };
    this.v = buildView(options, this.s);
    this.ctx = {
      strings: this.s,
      locale: options.locale,
      attachmentUrl: (id) =>
        this.client ? this.client.attachmentUrl(id) : Promise.reject(new Error('offline')),
    };
    this.greeting = options.greeting;
    applyColors(this.v.wrap, options.colors);
    this.darkMode();
    this.bind();
    this.mount();
    this.ready = this.start();
  }

  /** Loads the configuration and continues a stored chat; a failure shows Offline (retried on send). */
  private start(): Promise<void> {
    const ready = this.boot(this.scriptSrc);
    ready.catch(() => !this.client && this.setStatus('offline'));
    return ready;
  }

  // ---- lifecycle ----

  private mount(): void {
    const attach = () => {
      document.body.append(this.v.host);
      performance.mark?.('chat-widget:launcher');
    };
    if (document.body) attach();
    else this.listen(document, 'DOMContentLoaded', attach);
  }

  private async boot(scriptSrc: string): Promise<void> {
    if (!this.session) {
      const o = this.options;
      const config =
        o.apiUrl && o.tenantId
          ? { httpUrl: o.apiUrl, tenantId: o.tenantId }
          : await loadConfig(new URL('/config.json', scriptSrc || location.href).href);
      this.httpUrl = (o.apiUrl ?? config.httpUrl).replace(/\/+$/, '');
      const tenantId = o.tenantId ?? config.tenantId;
      this.session = new Session(`chat-widget:${tenantId}:${this.httpUrl}`, this.httpUrl);
      this.listen(window, 'storage', (e) => (e as StorageEvent).key === this.session?.key && this.syncTabs());
      void getWidgetSettings(this.httpUrl, tenantId).then(
        (t) => {
          this.reachable = true;
          applyColors(this.v.wrap, t.theme, o.colors);
          this.greeting = o.greeting ?? t.greeting;
          this.showGreeting();
          this.setStatus('ready');
        },
        () => !this.client && this.setStatus('offline'),
      );
    }
    if (this.session.current?.chatId) await this.attach();
  }

  /** ChatWidget('destroy'): nothing of the widget stays (DOM, listeners, connection, title). */
  destroy(): void {
    this.destroyed = true;
    this.stopTyping();
    this.client?.close();
    this.client = undefined;
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    this.v.host.remove();
    if (this.baseTitle !== undefined) document.title = this.baseTitle;
  }

  /** ChatWidget('reset'): forget the visitor (e.g. on the host's sign-out); the next message starts anew. */
  reset(): void {
    this.stopTyping();
    this.client?.close();
    this.client = this.visitorId = undefined;
    this.session?.save(undefined);
    this.profile = {};
    this.clearChat();
    this.setStatus(this.reachable ? 'ready' : 'offline');
  }

  async identify(profile: Profile): Promise<void> {
    this.profile = { ...this.profile, ...profile };
    await this.ready;
    const chat = this.chat;
    if (this.chatId && this.client && chat && chat.createdBy === this.visitorId) {
      this.chat = await this.client.updateChat(this.chatId, {
        metadata: { ...chat.metadata, ...(this.visitorMetadata() as Chat['metadata']) },
      });
    }
  }

  /** `metadata.visitor` of the visitor's chats: what `identify` said (the console shows the name). */
  private visitorMetadata(): { visitor?: Profile } {
    const { name, email } = this.profile;
    return name || email ? { visitor: { ...(name ? { name } : {}), ...(email ? { email } : {}) } } : {};
  }

  // ---- panel ----

  open(): void {
    if (this.isOpen) return;
    this.isOpen = true;
    this.v.panel.hidden = false;
    this.v.launcher.setAttribute('aria-expanded', 'true');
    this.scrollToEnd();
    this.refreshUnread();
    this.v.input.focus();
    this.emit('open');
  }

  close(): void {
    if (!this.isOpen) return;
    const focused = this.v.root.activeElement;
    this.isOpen = false;
    this.v.panel.hidden = true;
    this.v.launcher.setAttribute('aria-expanded', 'false');
    this.stopTyping();
    if (focused) this.v.launcher.focus();
    this.refreshUnread();
    this.emit('close');
  }

  toggle(): void {
    if (this.isOpen) this.close();
    else this.open();
  }

  private bind(): void {
    const v = this.v;
    v.launcher.onclick = () => this.toggle();
    v.minimize.onclick = () => this.close();
    v.more.onclick = () => void this.loadEarlier();
    v.scroller.onscroll = () => v.scroller.scrollTop < 40 && !v.more.hidden && void this.loadEarlier();
    v.end.onclick = () => void this.endChat();
    v.newChat.onclick = () => this.startNew();
    v.ratingForm.onsubmit = (e) => {
      e.preventDefault();
      void this.rate();
    };
    v.form.onsubmit = (e) => {
      e.preventDefault();
      void this.submit();
    };
    v.input.onkeydown = (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        v.form.requestSubmit();
      }
    };
    v.input.oninput = () => (v.input.value.trim() ? this.startTyping() : this.stopTyping());
    v.attach.onclick = () => v.file.click();
    v.file.onchange = () => {
      const files = Array.from(v.file.files ?? []);
      v.file.value = '';
      for (const file of files) void this.upload(file);
    };
    v.wrap.onkeydown = (e) => {
      if (!this.isOpen) return;
      if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        this.close();
        v.launcher.focus();
      } else if (e.key === 'Tab') {
        // Focus stays in the panel (and its launcher) while it is open.
        const stops = [...tabbables(v.panel), v.launcher];
        const first = stops[0];
        const last = stops[stops.length - 1];
        const active = v.root.activeElement;
        if (e.shiftKey ? active === first : active === last) {
          e.preventDefault();
          (e.shiftKey ? last : first)?.focus();
        }
      }
    };
    this.listen(document, 'visibilitychange', () => this.refreshUnread());
  }

  private listen(target: EventTarget, type: string, fn: (e: Event) => void): void {
    target.addEventListener(type, fn);
    this.cleanups.push(() => target.removeEventListener(type, fn));
  }

  private darkMode(): void {
    const dark = this.options.dark;
    if (dark !== 'auto') return void this.v.wrap.classList.toggle('dark', !!dark);
    const query = matchMedia('(prefers-color-scheme: dark)');
    const apply = () => this.v.wrap.classList.toggle('dark', query.matches);
    apply();
    this.listen(query, 'change', apply);
  }

  private setStatus(status: WidgetStatus): void {
    if (status === 'ready' && this.client) return;
    const el = this.v.status;
    if (el.dataset.state === status) return;
    el.dataset.state = status;
    el.textContent =
      status === 'live' || status === 'ready' ? 'Live' : status === 'polling' ? 'Polling' : 'Offline';
    el.classList.toggle('pulse', status === 'connecting');
    if (status === 'live') performance.mark?.('chat-widget:live');
    this.emit('status', status);
  }

  private showError(text = ''): void {
    this.v.error.textContent = text;
  }

  private showGreeting(): void {
    const g = this.v.greeting;
    g.textContent = this.greeting ?? '';
    g.hidden = !this.greeting || this.v.list.childElementCount > 0;
  }

  // ---- connection and chat ----

  private ensureClient(visitorId: string): ChatClient {
    if (this.client) return this.client;
    if (this.destroyed) throw new Error('the widget was destroyed');
    const session = this.session as Session;
    const client = new ChatClient({
      httpUrl: this.httpUrl,
      token: () => session.token(),
      renewToken: () => session.renew(),
      tabs: true,
      storageKey: `${session.key}:${visitorId}`,
      ...(this.options.timing ? { timing: this.options.timing } : {}),
    });
    this.client = client;
    this.visitorId = this.ctx.me = visitorId;
    client.on('status', (status) => {
      if (this.client !== client) return;
      this.setStatus(status);
      // Chat changes made while the connection was being (re)built are not replayed: read the chat again.
      if ((status === 'live' || status === 'polling') && this.chatId) void this.refreshChat();
    });
    client.on('message', (m) => this.onMessage(m));
    client.on('messageUpdated', (m) => {
      const item = m.chatId === this.chatId ? this.items.get(m.seq) : undefined;
      if (item) this.put(m, item);
    });
    client.on('typing', (t) => {
      if (t.chatId === this.chatId && t.userId !== this.visitorId)
        this.showTyping(t.isTyping ? t.userId : undefined, t.expiresInMs);
    });
    client.on('receipt', (r) => {
      if (r.chatId !== this.chatId) return;
      if (r.userId === this.visitorId) {
        this.readSeq = Math.max(this.readSeq, r.seq);
        this.refreshUnread();
      } else if (r.seq > this.theirReadSeq) {
        this.theirReadSeq = r.seq;
        for (const { m, li } of this.items.values())
          if (m.senderId === this.visitorId) setTick(li, m.seq <= r.seq ? 'read' : 'sent', this.s);
      }
    });
    client.on('chat', ({ chat }) => {
      if (chat.chatId !== this.chatId) return;
      this.chat = chat;
      this.showClosed();
    });
    client.on('outbox', () => this.renderPending());
    void client.connect().catch(noop);
    return client;
  }

  /** Continues the stored chat: its state, the last page of its history, then live delivery. */
  private async attach(created?: Chat): Promise<void> {
    const stored = this.session?.read();
    const chatId = stored?.chatId;
    if (!stored || !chatId) return;
    const client = this.ensureClient(stored.visitorId);
    let chat = created;
    try {
      chat ??= await client.getChat(chatId);
    } catch (error) {
      // Gone (a restarted local cloud, a deleted chat, a visitor that cannot be renewed): start over.
      if (error instanceof ApiError && [401, 403, 404].includes(error.status)) return this.reset();
      throw error;
    }
    if (this.session?.current?.chatId !== chatId || this.chatId === chatId) return;
    this.chatId = chatId;
    this.v.host.dataset.chatId = chatId;
    this.chat = chat;
    this.readSeq = chat.lastReadSeq ?? 0;
    this.liveAfter = chat.lastSeq;
    const after = Math.max(0, chat.lastSeq - PAGE);
    this.oldest = after + 1;
    this.v.more.hidden = after === 0;
    this.showClosed();
    this.renderPending();
    // Once subscribed, read the chat again: a change made before the subscription reached the server
    // (e.g. closed meanwhile) is not replayed by the catch-up, which covers messages only.
    void client.subscribe(chatId, { after }).then(() => this.refreshChat(), noop);
  }

  /** The current chat; on the visitor's first message, a visitor and a chat are created first. */
  private ensureChat(): Promise<string> {
    if (this.chatId) return Promise.resolve(this.chatId);
    this.creating ??= (async () => {
      await this.ready.catch(() => (this.ready = this.start()));
      await this.ready;
      const session = this.session;
      if (!session) throw new Error('the widget could not load its configuration');
      let stored = session.read();
      if (!stored) {
        const tenantId = session.key.split(':')[1] ?? '';
        stored = await createVisitor(this.httpUrl, tenantId, this.profile);
        session.save(stored);
      }
      if (!stored.chatId) {
        const client = this.ensureClient(stored.visitorId);
        const metadata = { ...this.options.metadata, ...this.visitorMetadata() };
        const chat = await client.createChat({
          ...(this.options.subject ? { subject: this.options.subject } : {}),
          ...(Object.keys(metadata).length ? { metadata: metadata as Chat['metadata'] } : {}),
        });
        session.save({ ...(session.read() ?? stored), chatId: chat.chatId });
        await this.attach(chat);
      } else {
        await this.attach();
      }
      if (!this.chatId) throw new Error('no chat');
      return this.chatId;
    })().finally(() => {
      this.creating = undefined;
    });
    return this.creating;
  }

  /** Another tab started, switched or forgot the conversation: follow it. */
  private syncTabs(): void {
    const next = this.session?.read();
    if (next?.visitorId !== this.visitorId && this.client) {
      this.client.close();
      this.client = this.visitorId = undefined;
      this.clearChat();
    } else if (next?.chatId !== this.chatId && this.chatId) {
      this.clearChat();
    }
    if (next?.chatId && next.chatId !== this.chatId) void this.attach().catch(noop);
    else if (!this.client) this.setStatus(this.reachable ? 'ready' : 'offline');
  }

  private clearChat(): void {
    if (this.chatId) void this.client?.unsubscribe(this.chatId).catch(noop);
    this.chatId = this.chat = undefined;
    delete this.v.host.dataset.chatId;
    this.items.clear();
    this.pending.clear();
    this.v.list.replaceChildren();
    this.v.more.hidden = true;
    this.readSeq = this.theirReadSeq = this.liveAfter = 0;
    this.showTyping(undefined, 0);
    this.showClosed();
    this.showGreeting();
    this.refreshUnread();
  }

  /** "Start a new conversation": same visitor, a new chat on the next message. */
  startNew(): void {
    const stored = this.session?.read();
    if (stored?.chatId) {
      delete stored.chatId;
      this.session?.save(stored);
    }
    this.clearChat();
    this.v.input.focus();
  }

  /** Reads the chat again after a (re)subscription; both triggers of one connection count once. */
  private async refreshChat(): Promise<void> {
    if (Date.now() - this.refreshedAt < 1000) return;
    this.refreshedAt = Date.now();
    const chatId = this.chatId;
    const chat = await this.client?.getChat(chatId ?? '').catch(noop);
    if (chat && chat.chatId === this.chatId) {
      this.chat = chat;
      this.showClosed();
    }
  }

  private showClosed(): void {
    const v = this.v;
    const closed = this.chat?.status === 'closed';
    v.closed.hidden = !closed;
    v.end.hidden = !this.chatId || closed;
    const rated = this.chat?.rating !== undefined;
    v.ratingForm.hidden = rated;
    v.thanks.hidden = !rated;
  }

  private async endChat(): Promise<void> {
    if (!this.chatId || !this.client) return;
    try {
      this.chat = await this.client.updateChat(this.chatId, { status: 'closed' });
      this.showClosed();
      this.v.ratingInputs[0]?.focus();
    } catch {
      this.showError(this.s.failed);
    }
  }

  private async rate(): Promise<void> {
    const v = this.v;
    const rating = Number(v.ratingInputs.find((input) => input.checked)?.value);
    const feedback = v.feedback.value.trim();
    if (!this.chatId || !this.client || !rating) return;
    try {
      this.chat = await this.client.updateChat(this.chatId, {
        status: 'closed',
        rating,
        ...(feedback ? { feedback } : {}),
      });
      this.showClosed();
      v.newChat.focus();
    } catch {
      this.showError(this.s.failed);
    }
  }

  // ---- messages ----

  private async submit(): Promise<void> {
    const v = this.v;
    const text = v.input.value.trim();
    if (!text) return;
    this.askNotifications();
    if (this.chat?.status === 'closed') this.startNew();
    v.input.value = '';
    this.showError();
    // Shown at once, while the visitor and the chat are created (then the outbox shows it).
    const temp = pendingItem({ clientMessageId: '', text, createdAt: new Date().toISOString() }, this.ctx);
    v.list.append(temp);
    this.showGreeting();
    this.scrollToEnd();
    let chatId: string;
    try {
      chatId = await this.ensureChat();
    } catch {
      temp.remove();
      this.showGreeting();
      this.showError(this.s.failed);
      if (!v.input.value) v.input.value = text;
      return;
    }
    this.stopTyping();
    const sending = (this.client as ChatClient).send(chatId, text);
    temp.remove();
    this.renderPending();
    sending.catch((error: unknown) => {
      if (!isRetryable(error)) this.showError(this.s.failed);
    });
  }

  private async upload(file: File): Promise<void> {
    const row = document.createElement('p');
    const progress = document.createElement('progress');
    progress.max = 1;
    progress.value = 0;
    progress.setAttribute('aria-label', fill(this.s.uploading, { name: file.name }));
    row.append(file.name, progress);
    this.v.uploads.append(row);
    try {
      const chatId = await this.ensureChat();
      const client = this.client as ChatClient;
      const { attachmentId } = await client.upload(chatId, file, {
        onProgress: (fraction) => (progress.value = fraction),
      });
      // The upload is confirmed by storage a moment later: until then the API answers 409.
      for (let wait = 250; ; wait *= 2) {
        try {
          await client.send(chatId, { attachmentId });
          break;
        } catch (error) {
          if (
            !(error instanceof ApiError && (error.status === 409 || error.code === 'conflict')) ||
            wait > 8000
          )
            throw error;
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    } catch {
      this.showError(this.s.failed);
    } finally {
      row.remove();
    }
  }

  private onMessage(m: Message): void {
    if (m.chatId !== this.chatId) return;
    if (this.items.get(m.seq)?.m.messageId === m.messageId) return;
    this.put(m);
    this.emit('message', m);
    if (m.senderId !== this.visitorId && m.seq > this.liveAfter) {
      this.showTyping(undefined, 0);
      this.notify(m);
    }
    this.refreshUnread();
  }

  /** Shows a message in seq order (or replaces its item), replacing its outbox item. */
  private put(m: Message, previous?: { li: HTMLLIElement }): void {
    const v = this.v;
    const li = messageItem(m, this.ctx);
    if (m.senderId === this.visitorId && m.seq <= this.theirReadSeq) setTick(li, 'read', this.s);
    const sc = v.scroller;
    const stick = sc.scrollHeight - sc.scrollTop - sc.clientHeight < 80 || m.senderId === this.visitorId;
    if (previous) previous.li.replaceWith(li);
    else {
      this.pending.get(m.clientMessageId)?.remove();
      this.pending.delete(m.clientMessageId);
      let next: Element | null = v.list.firstElementChild;
      while (next && Number((next as HTMLElement).dataset.seq ?? Infinity) < m.seq)
        next = next.nextElementSibling;
      v.list.insertBefore(li, next);
    }
    this.items.set(m.seq, { m, li });
    this.showGreeting();
    if (stick && !previous) this.scrollToEnd();
  }

  /** The visitor's messages not yet acknowledged, after the stored ones. */
  private renderPending(): void {
    if (!this.client || !this.chatId) return;
    const delivered = new Set([...this.items.values()].map(({ m }) => m.clientMessageId));
    const entries = this.client.pending(this.chatId).filter((entry) => !delivered.has(entry.clientMessageId));
    const keep = new Set(entries.map((entry) => entry.clientMessageId));
    for (const [id, li] of this.pending)
      if (!keep.has(id)) {
        li.remove();
        this.pending.delete(id);
      }
    for (const entry of entries)
      if (!this.pending.has(entry.clientMessageId)) {
        const li = pendingItem(entry, this.ctx);
        this.pending.set(entry.clientMessageId, li);
        this.v.list.append(li);
        this.scrollToEnd();
      }
    this.showGreeting();
  }

  private async loadEarlier(): Promise<void> {
    const v = this.v;
    if (this.loading || this.oldest <= 1 || !this.client || !this.chatId) return;
    this.loading = true;
    try {
      const chatId = this.chatId;
      const before = this.oldest;
      const older = await this.client.history(chatId, { before, limit: PAGE });
      if (chatId !== this.chatId) return;
      const height = v.scroller.scrollHeight;
      for (const m of older) if (!this.items.has(m.seq)) this.put(m);
      this.oldest = older.length < PAGE ? 1 : Math.min(before, ...older.map((m) => m.seq));
      v.more.hidden = this.oldest <= 1;
      v.scroller.scrollTop += v.scroller.scrollHeight - height;
    } catch {
      this.showError(this.s.failed);
    } finally {
      this.loading = false;
    }
  }

  private scrollToEnd(): void {
    const sc = this.v.scroller;
    sc.scrollTop = sc.scrollHeight;
  }

  // ---- unread, read receipts, notifications ----

  /** Unread count (badge, tab title, `unread` event); reading happens while the panel is open and seen. */
  private refreshUnread(): void {
    let count = 0;
    let last = 0;
    for (const { m } of this.items.values()) {
      last = Math.max(last, m.seq);
      if (m.senderId !== this.visitorId && m.seq > this.readSeq) count++;
    }
    if (count && this.isOpen && !document.hidden && this.chatId && this.client) {
      this.readSeq = last;
      count = 0;
      void this.client.markRead(this.chatId, last).catch(noop);
    }
    if (count !== this.unread) {
      this.unread = count;
      this.emit('unread', count);
    }
    const v = this.v;
    v.badge.textContent = String(count);
    v.badge.hidden = !count || this.isOpen;
    v.unread.textContent = count ? fill(this.s.unread, { n: count }) : '';
    const prefix = /^\(\d+\) /;
    if (document.hidden && count) {
      if (this.baseTitle === undefined || !prefix.test(document.title)) this.baseTitle = document.title;
      document.title = `(${count}) ${this.baseTitle}`;
    } else if (this.baseTitle !== undefined) {
      if (prefix.test(document.title)) document.title = this.baseTitle;
      this.baseTitle = undefined;
    }
  }

  /** Asks for notification permission: only ever called from the visitor's own gesture (sending). */
  private askNotifications(): void {
    if (this.options.notifications === false || !('Notification' in window)) return;
    if (Notification.permission === 'default')
      void Promise.resolve(Notification.requestPermission()).catch(noop);
  }

  private notify(m: Message): void {
    if (!document.hidden || this.options.notifications === false || !('Notification' in window)) return;
    if (Notification.permission !== 'granted') return;
    try {
      const n = new Notification(senderName(m, this.s), {
        body: (m.text || m.attachment?.fileName || this.s.notification).slice(0, 200),
        tag: `chat-widget:${m.chatId}`,
      });
      n.onclick = () => {
        window.focus();
        this.open();
        n.close();
      };
    } catch {
      // some browsers only notify from a service worker
    }
  }

  // ---- typing ----

  private startTyping(): void {
    if (!this.chatId || !this.client || Date.now() - this.typingSentAt < 3000) return this.armTypingStop();
    this.typingSentAt = Date.now();
    void this.client.typing(this.chatId, true).catch(noop);
    this.armTypingStop();
  }

  private armTypingStop(): void {
    clearTimeout(this.typingStop);
    this.typingStop = setTimeout(() => this.stopTyping(), 4000);
  }

  private stopTyping(): void {
    clearTimeout(this.typingStop);
    if (!this.typingSentAt) return;
    this.typingSentAt = 0;
    if (this.chatId && this.client) void this.client.typing(this.chatId, false).catch(noop);
  }

  /** "Ann is typing…" for `userId` until `ms` pass, or hidden (undefined). */
  private showTyping(userId: string | undefined, ms: number): void {
    clearTimeout(this.typingHide);
    let name = this.s.support;
    for (const { m } of this.items.values()) if (m.senderId === userId) name = senderName(m, this.s);
    this.v.typing.textContent = userId ? typingText(name, this.s) : '';
    if (userId) this.typingHide = setTimeout(() => this.showTyping(undefined, 0), ms);
  }
}
