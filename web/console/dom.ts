/**
 * DOM helpers of the console. Every string that came from the API (message text, names, metadata) is
 * put into the page as text (Text nodes, textContent), never parsed as HTML; links are made here, for
 * http and https URLs only.
 */

type AttrValue = string | number | boolean | undefined | null;
export type Child = Node | string | null | undefined | false;

/** An element with attributes (never event handlers: `on*` names are refused) and text or node children. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Readonly<Record<string, AttrValue>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (/^on/i.test(name)) throw new Error(`h(): event handler attribute ${name} refused`);
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
};

/** Appends nodes and strings (as Text nodes). */
export const append = (parent: Element, children: readonly Child[]): void => {
  for (const child of children)
    if (child !== null && child !== undefined && child !== false) parent.append(child);
};

/** A required element of the page. */
export const byId = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`#${id} is missing from the page`);
  return element as T;
};

/**
 * Text from outside in an isolated span (`dir="auto"` + CSS `unicode-bidi: isolate`): a right-to-left
 * override inside it cannot reorder the text around it.
 */
export const isolate = (text: string, className?: string): HTMLSpanElement =>
  h('span', { dir: 'auto', class: className ? `bidi ${className}` : 'bidi' }, text);

/** The URL if it is an absolute http(s) URL, else undefined (javascript:, data:, relative…). */
export const safeHttpUrl = (raw: string): string | undefined => {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
};

/** A link that opens in a new tab without handing it this window. */
export const externalLink = (href: string, text: string): HTMLAnchorElement =>
  h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text);

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}'"]+$/;

/** Text nodes and links for http(s) URLs in `text`; everything else stays text. */
export const linkify = (text: string): Node[] => {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index ?? 0;
    const raw = match[0].replace(TRAILING_PUNCTUATION, '');
    const href = safeHttpUrl(raw);
    if (!href || raw.length === 0) continue;
    if (start > last) nodes.push(document.createTextNode(text.slice(last, start)));
    nodes.push(externalLink(href, raw));
    last = start + raw.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
};

/** At most `max` characters (by code point), with an ellipsis when cut. */
export const truncate = (text: string, max: number): string => {
  const chars = Array.from(text);
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : text;
};

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A `<time>` element: the clock time when today, the date and time otherwise. */
export const timeElement = (iso: string, now = new Date()): HTMLTimeElement => {
  const at = new Date(iso);
  const sameDay = at.toDateString() === now.toDateString();
  const element = h('time', { datetime: iso, title: dateTimeFormat.format(at) });
  element.textContent = sameDay ? timeFormat.format(at) : dateTimeFormat.format(at);
  return element;
};

export const formatBytes = (size: number): string => {
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / (1024 * 1024)).toFixed(1)} MB`;
};

/** A JSON value as one line of text (strings as they are). */
export const jsonText = (value: unknown): string =>
  typeof value === 'string' ? value : JSON.stringify(value);

/** The message of anything thrown. */
export const errorText = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === 'string' ? error : 'unknown error';
