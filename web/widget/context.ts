/**
 * The state of one widget instance, shared by its parts (panel, chat, log, sending, replies and
 * reactions, closing, unread, typing). Each part is a set of functions taking this object.
 *
 * Naming: a property whose name ends in `_` is internal to the bundle, and the web build shortens it
 * (esbuild `mangleProps`, infra/web-build.ts). Never end a wire name (JSON field, DOM API, option or
 * command of the host, public SDK method) with `_`.
 */
import type { Chat, ChatClient, Message, Status } from '../sdk/index.ts';
import type { MediaModule } from './media-loader.ts';
import type { ItemContext } from './messages.ts';
import type { Strings, WidgetOptions } from './options.ts';
import type { Session } from './session.ts';
import type { View } from './view.ts';

export type HostEvent = 'message' | 'open' | 'close' | 'unread' | 'status';
export type Emit = (type: HostEvent, value?: unknown) => void;
/** The SDK's status, or `ready` before the visitor's first message (nothing to connect yet). */
export type WidgetStatus = Status | 'ready';
export interface Profile {
  name?: string;
  email?: string;
}
export type Timer = ReturnType<typeof setTimeout> | undefined;

export interface Ctx {
  readonly o_: WidgetOptions;
  readonly s_: Strings;
  readonly v_: View;
  readonly ic_: ItemContext;
  readonly emit_: Emit;
  /** Undoes a listener on a target outside the widget's DOM (document, window, media query). */
  readonly cleanups_: (() => void)[];
  /** Configuration loaded and the stored chat continued (rejected: retried on the next send). */
  ready_: Promise<void>;
  start_: () => Promise<void>;
  destroyed_?: boolean;
  /** The tenant's settings were read: the API is reachable. */
  reachable_?: boolean;
  httpUrl_: string;
  /** The URL /widget.js was served from (config.json and /widget-media.js are found next to it). */
  readonly src_: string;
  /** /widget-media.js (emoji picker, voice recorder), once first used. */
  media_?: Promise<MediaModule> | undefined;
  session_?: Session;
  client_?: ChatClient | undefined;
  visitorId_?: string | undefined;
  chatId_?: string | undefined;
  chat_?: Chat | undefined;
  creating_?: Promise<string> | undefined;
  /**
   * The visitor's generation: moved when the widget lets go of a visitor (reset, another tab's
   * visitor, destroy). An async step of an older generation (creating the visitor or the chat, loading
   * the chat) stops at its next await instead of saving, attaching or showing the old visitor's chat.
   */
  gen_: number;
  /** Shown messages by seq, and the outbox items by clientMessageId. */
  readonly items_: Map<number, { m: Message; li: HTMLLIElement }>;
  readonly pending_: Map<string, HTMLLIElement>;
  /** Mentions of the visitor whose message has not arrived yet (counted unread like it), by seq. */
  readonly mentioned_: Map<number, { m: Message }>;
  /** The message the next one sent answers ("Replying to …"). */
  replyTo_?: Message | undefined;
  /** The reaction version last applied per messageId (applyReaction). */
  readonly versions_: Map<string, number>;
  /** The lowest seq loaded (history pages load before it). */
  oldest_: number;
  /** Messages up to this seq were in the chat when it was opened (no notification for them). */
  liveAfter_: number;
  readSeq_: number;
  theirReadSeq_: number;
  loading_?: boolean;
  unreadCount_: number;
  isOpen_?: boolean;
  greeting_?: string | undefined;
  profile_: Profile;
  typingSentAt_: number;
  typingStop_?: Timer;
  typingHide_?: Timer;
  /** The page's title while the unread count prefixes it. */
  baseTitle_?: string | undefined;
}

/** Messages loaded at start and per "Load earlier". */
export const PAGE = 25;
export const noop = (): void => undefined;

/** Adds a listener the widget removes on destroy. */
export const listen = (w: Ctx, target: EventTarget, type: string, fn: (e: Event) => void): void => {
  target.addEventListener(type, fn);
  w.cleanups_.push(() => target.removeEventListener(type, fn));
};

export const showError = (w: Ctx, text = ''): void => {
  w.v_.error_.textContent = text;
};

export const scrollToEnd = (w: Ctx): void => {
  const sc = w.v_.scroller_;
  sc.scrollTop = sc.scrollHeight;
};

/** The status line (Live, Polling or Offline) and the host's `status` event. */
export const setStatus = (w: Ctx, status: WidgetStatus): void => {
  if (status === 'ready' && w.client_) return;
  const el = w.v_.status_;
  if (el.dataset.state === status) return;
  el.dataset.state = status;
  el.textContent =
    status === 'live' || status === 'ready' ? 'Live' : status === 'polling' ? 'Polling' : 'Offline';
  el.classList.toggle('pulse', status === 'connecting');
  if (status === 'live') performance.mark?.('chat-widget:live');
  w.emit_('status', status);
};

/** The greeting, shown above an empty conversation. */
export const showGreeting = (w: Ctx): void => {
  const g = w.v_.greeting_;
  g.textContent = w.greeting_ ?? '';
  g.hidden = !w.greeting_ || w.v_.list_.childElementCount > 0;
};
