/**
 * /widget.js, the embeddable widget (docs: CONTRACT "Web apps"). The host's loader snippet defines
 * `ChatWidget` as a queue (`ChatWidget.q`); this script replaces it with the real command function and
 * replays the queued calls in order. Loading it a second time changes nothing.
 *
 *   ChatWidget('init', { tenantId, apiUrl?, wsUrl?, position?, dark?, colors?, strings?, … })
 *   ChatWidget('open' | 'close' | 'toggle' | 'reset' | 'destroy')
 *   ChatWidget('identify', { name?, email? })
 *   ChatWidget('on' | 'off', 'message' | 'open' | 'close' | 'unread' | 'status', fn)
 */
import type { WidgetOptions } from './options.ts';
import { createWidget, type Emit, type Profile, type Widget } from './widget.ts';

type Listener = (value: unknown) => void;
interface Api {
  (command: string, ...args: unknown[]): void;
  q?: ArrayLike<unknown>[];
  loaded?: boolean;
}

const global = window as unknown as { ChatWidget?: Api };
/** The URL this script was served from: its origin's /config.json has the API's URLs. */
const scriptSrc = (document.currentScript as HTMLScriptElement | null)?.src ?? '';
const object = <T>(value: unknown): T => (value && typeof value === 'object' ? value : {}) as T;

if (!global.ChatWidget?.loaded) {
  const queued = Array.from(global.ChatWidget?.q ?? []);
  const listeners = new Map<string, Set<Listener>>();
  /** Messages the host has heard of: each once per page, even across destroy and init. */
  const heard = new Set<string>();
  const emit: Emit = (type, value) => {
    if (type === 'message') {
      const { chatId, seq } = value as { chatId: string; seq: number };
      if (heard.has(`${chatId}:${seq}`)) return;
      heard.add(`${chatId}:${seq}`);
    }
    for (const fn of [...(listeners.get(type) ?? [])]) {
      try {
        fn(value);
      } catch (error) {
        console.error('ChatWidget listener', error); // a host's listener never breaks the widget
      }
    }
  };
  let widget: Widget | undefined;
  /** Commands called before `init`, run right after it. */
  let early: unknown[][] = [];

  const api: Api = (command, ...args) => {
    if (command === 'init') {
      if (widget) return;
      widget = createWidget(object<WidgetOptions>(args[0]), emit, scriptSrc);
      const calls = early;
      early = [];
      for (const [name, ...rest] of calls) api(String(name), ...rest);
    } else if (command === 'on' || command === 'off') {
      const [type, fn] = args;
      if (typeof type !== 'string' || typeof fn !== 'function') return;
      const set = listeners.get(type) ?? new Set<Listener>();
      listeners.set(type, set);
      if (command === 'on') set.add(fn as Listener);
      else set.delete(fn as Listener);
    } else if (command === 'destroy') {
      widget?.destroy();
      widget = undefined;
    } else if (!widget) {
      early.push([command, ...args]);
    } else if (command === 'open' || command === 'close' || command === 'toggle' || command === 'reset') {
      widget[command]();
    } else if (command === 'identify') {
      widget
        .identify(object<Profile>(args[0]))
        .catch((error: unknown) => console.warn('ChatWidget identify', error));
    } else {
      console.warn(`ChatWidget: unknown command "${command}"`);
    }
  };
  api.loaded = true;
  global.ChatWidget = api;
  for (const args of queued) {
    const [command, ...rest] = Array.from(args);
    api(String(command), ...rest);
  }
}
