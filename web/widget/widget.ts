/**
 * One widget instance: the view, the visitor's session and the SDK client, and what ties them
 * together (the host's commands, the view's events, loading the configuration). The visitor and the
 * chat are created on the first message (not per page view); a stored chat is continued at load. Every
 * tab of one visitor shares one realtime connection (SDK `tabs`).
 */
import { type Chat, getWidgetSettings, loadConfig } from '../sdk/index.ts';
import { attach, disconnect, reset, startNew, syncTabs, visitorMetadata } from './chat.ts';
import { endChat, rate } from './closing.ts';
import { type Ctx, type Emit, listen, type Profile, setStatus, showError, showGreeting } from './context.ts';
import { loadEarlier } from './log.ts';
import { withMedia } from './media-loader.ts';
import { applyColors, STRINGS, type WidgetOptions } from './options.ts';
import { close, onKey, open, toggle } from './panel.ts';
import { submit, upload } from './send.ts';
import { react, setReply } from './reply.ts';
import { createSession } from './session.ts';
import { startTyping, stopTyping } from './typing.ts';
import { refreshUnread } from './unread.ts';
import { buildView } from './view.ts';

export type { Emit, Profile } from './context.ts';

export interface Widget {
  open(): void;
  close(): void;
  toggle(): void;
  /** ChatWidget('reset'): forget the visitor (e.g. on the host's sign-out); the next message starts anew. */
  reset(): void;
  identify(profile: Profile): Promise<void>;
  /** ChatWidget('destroy'): nothing of the widget stays (DOM, listeners, connection, title). */
  destroy(): void;
}

export const createWidget = (options: WidgetOptions, emit: Emit, scriptSrc: string): Widget => {
  const s = { ...STRINGS, ...options.strings };
  const v = buildView(options, s);
  const w: Ctx = {
    o_: options,
    s_: s,
    v_: v,
    emit_: emit,
    ic_: {
      s_: s,
      locale_: options.locale,
      attachmentUrl_: (id) =>
        w.client_ ? w.client_.attachmentUrl(id) : Promise.reject(new Error('offline')),
      reply_: (m) => {
        setReply(w, m);
        v.input_.focus();
      },
      react_: (m, emoji, on) => void react(w, m, emoji, on),
      pick_: (opener, parent, onPick) => withMedia(w, (m) => m.react(opener, parent, onPick)),
    },
    cleanups_: [],
    ready_: Promise.resolve(),
    start_: () => {
      // Loads the configuration and continues a stored chat; a failure shows Offline (retried on send).
      const ready = boot();
      ready.catch(() => !w.client_ && setStatus(w, 'offline'));
      return ready;
    },
    httpUrl_: '',
    src_: scriptSrc,
    items_: new Map(),
    pending_: new Map(),
    mentioned_: new Map(),
    versions_: new Map(),
    oldest_: 1,
    gen_: 0,
    liveAfter_: 0,
    readSeq_: 0,
    theirReadSeq_: 0,
    unreadCount_: 0,
    greeting_: options.greeting,
    profile_: {},
    typingSentAt_: 0,
  };

  const boot = async (): Promise<void> => {
    if (!w.session_) {
      const config =
        options.apiUrl && options.tenantId
          ? { httpUrl: options.apiUrl, tenantId: options.tenantId }
          : await loadConfig(new URL('/config.json', scriptSrc || location.href).href);
      w.httpUrl_ = (options.apiUrl ?? config.httpUrl).replace(/\/+$/, '');
      const tenantId = options.tenantId ?? config.tenantId;
      const session = (w.session_ = createSession(tenantId, w.httpUrl_));
      listen(w, window, 'storage', (e) => (e as StorageEvent).key === session.key_ && syncTabs(w));
      void getWidgetSettings(w.httpUrl_, tenantId).then(
        (t) => {
          w.reachable_ = true;
          applyColors(v.wrap_, t.theme, options.colors);
          w.greeting_ = options.greeting ?? t.greeting;
          showGreeting(w);
          setStatus(w, 'ready');
        },
        () => !w.client_ && setStatus(w, 'offline'),
      );
    }
    if (w.session_.current_()?.chatId) await attach(w);
  };

  applyColors(v.wrap_, options.colors);
  darkMode(w);
  bind(w);
  const mount = () => {
    document.body.append(v.host_);
    performance.mark?.('chat-widget:launcher');
  };
  if (document.body) mount();
  else listen(w, document, 'DOMContentLoaded', mount);
  w.ready_ = w.start_();

  return {
    open: () => open(w),
    close: () => close(w),
    toggle: () => toggle(w),
    reset: () => reset(w),
    identify: async (profile) => {
      w.profile_ = { ...w.profile_, ...profile };
      await w.ready_;
      const { chat_: chat, chatId_: chatId, client_: client } = w;
      if (chatId && client && chat && chat.createdBy === w.visitorId_) {
        const updated = await client.updateChat(chatId, {
          metadata: { ...chat.metadata, ...(visitorMetadata(w) as Chat['metadata']) },
        });
        if (w.chatId_ === chatId) w.chat_ = updated;
      }
    },
    destroy: () => {
      w.destroyed_ = true;
      disconnect(w);
      for (const cleanup of w.cleanups_.splice(0)) cleanup();
      v.host_.remove();
      if (w.baseTitle_ !== undefined) document.title = w.baseTitle_;
    },
  };
};

/** The view's controls, wired to the widget's parts. */
const bind = (w: Ctx): void => {
  const v = w.v_;
  v.launcher_.onclick = () => toggle(w);
  v.minimize_.onclick = () => close(w);
  v.more_.onclick = () => void loadEarlier(w);
  v.scroller_.onscroll = () => v.scroller_.scrollTop < 40 && !v.more_.hidden && void loadEarlier(w);
  v.end_.onclick = () => void endChat(w);
  v.newChat_.onclick = () => startNew(w);
  v.ratingForm_.onsubmit = (e) => {
    e.preventDefault();
    void rate(w);
  };
  v.form_.onsubmit = (e) => {
    e.preventDefault();
    void submit(w);
  };
  v.input_.onkeydown = (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      v.form_.requestSubmit();
    }
  };
  v.input_.oninput = () => (v.input_.value.trim() ? startTyping(w) : stopTyping(w));
  v.attach_.onclick = () => v.file_.click();
  v.emoji_.onclick = () => withMedia(w, (m) => m.emoji(v.emoji_, v.panel_, v.form_, v.input_));
  v.mic_.onclick = () =>
    withMedia(w, (m) =>
      m.voice(
        v.mic_,
        v.panel_,
        v.form_,
        (file) => void upload(w, file),
        () => showError(w, w.s_.failed),
      ),
    );
  v.replyCancel_.onclick = () => {
    setReply(w);
    v.input_.focus();
  };
  v.file_.onchange = () => {
    const files = Array.from(v.file_.files ?? []);
    v.file_.value = '';
    for (const file of files) void upload(w, file);
  };
  v.wrap_.onkeydown = (e) => onKey(w, e);
  listen(w, document, 'visibilitychange', () => refreshUnread(w));
};

const darkMode = (w: Ctx): void => {
  const dark = w.o_.dark;
  const classes = w.v_.wrap_.classList;
  if (dark !== 'auto') return void classes.toggle('dark', !!dark);
  const query = matchMedia('(prefers-color-scheme: dark)');
  const apply = () => classes.toggle('dark', query.matches);
  apply();
  listen(w, query, 'change', apply);
};
