/**
 * What a host passes to `ChatWidget('init', …)`, the texts a host may translate, and the theme (tenant
 * record first, then init options) applied as CSS custom properties through the CSSOM.
 *
 * The accessible names of the contract ("Open chat", "Message", "Send") and the status words (Live,
 * Polling, Offline) are not translatable: hosts and tests find the widget by them.
 */
import type { ChatClientOptions } from '../sdk/index.ts';

export const STRINGS = {
  title: 'Chat with us',
  placeholder: 'Type a message…',
  minimize: 'Close',
  endChat: 'End chat',
  attach: 'Attach a file',
  earlier: 'Load earlier messages',
  typing: '{name} is typing…',
  support: 'Support',
  you: 'You',
  sending: 'Sending…',
  sent: 'Sent',
  read: 'Read',
  edited: 'edited',
  deleted: 'This message was deleted.',
  ended: 'This conversation has ended.',
  rate: 'How was this conversation?',
  stars: '{n} of 5',
  feedback: 'Anything else you want to tell us? (optional)',
  submitRating: 'Send rating',
  thanks: 'Thank you for your feedback!',
  newChat: 'Start a new conversation',
  unread: '{n} unread',
  uploading: 'Uploading {name}',
  failed: 'That did not work. Please try again.',
  notification: 'New message',
  reply: 'Reply',
  replyTo: 'Reply to {name}',
  message: 'message',
  replying: 'Replying to {name}',
  cancelReply: 'Cancel reply',
  quoteDeleted: 'Original message deleted',
  replies: '{n} replies',
  oneReply: '1 reply',
  react: 'Add reaction',
  reaction: '{emoji} {n}, react',
  mentionsYou: 'mentions you',
};
export type Strings = typeof STRINGS;

/**
 * Colour names of a theme (tenant `theme` record or `init({ colors })`) → CSS custom properties
 * (`--cw-t-` and this); the stylesheet uses them in light mode and only the primary colours in dark mode.
 */
const COLOR_VARS: Record<string, string> = {
  primary: 'primary',
  onPrimary: 'on-primary',
  background: 'bg',
  text: 'text',
  bubble: 'bubble',
  muted: 'muted',
};

export interface WidgetOptions {
  tenantId?: string;
  /** Default: `httpUrl` of /config.json of the origin that served widget.js. */
  apiUrl?: string;
  /** Default: `wsUrl` of that config.json (the realtime URL itself comes with each ticket). */
  wsUrl?: string;
  position?: 'left' | 'right';
  /** true, false or 'auto' (the visitor's system setting). */
  dark?: boolean | 'auto';
  /** Visible text next to the launcher icon (its accessible name stays "Open chat"). */
  launcherText?: string;
  title?: string;
  greeting?: string;
  colors?: Record<string, string>;
  /** Translations of STRINGS. */
  strings?: Partial<Strings>;
  /** BCP 47 language of dates and times (default: the page's). */
  locale?: string;
  /** Ask for browser notifications (on the visitor's first message); default true. */
  notifications?: boolean;
  /** Subject and metadata of the chats the visitor starts. */
  subject?: string;
  metadata?: Record<string, unknown>;
  zIndex?: number;
  /** Advanced: the SDK's transport timing (e.g. `{ probeMs }`, how soon polling tries the socket again). */
  timing?: ChatClientOptions['timing'];
}

/** Sets the valid colours of each theme, later ones winning, on `element` (CSSOM: CSP-safe). */
export const applyColors = (
  element: HTMLElement,
  ...themes: (Record<string, string> | undefined)[]
): void => {
  for (const theme of themes)
    for (const [name, value] of Object.entries(theme ?? {})) {
      const property = COLOR_VARS[name];
      if (property && typeof value === 'string' && CSS.supports('color', value))
        element.style.setProperty(`--cw-t-${property}`, value);
    }
};
