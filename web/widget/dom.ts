/**
 * DOM helpers of the widget. Text is only ever set with `textContent` or text nodes, never parsed as
 * HTML; attributes are set one by one (never `style`: colours go through the CSSOM, see options.ts).
 */

export type Child = Node | string | false | null | undefined;
export type Props = Record<string, string | number | boolean | undefined>;

/** An element with attributes (`text` sets its textContent, `class` its className) and children. */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (name === 'text') element.textContent = String(value);
    else if (name === 'class') element.className = String(value);
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) if (child || child === '') element.append(child);
  return element;
};

/** An inline SVG icon (decorative: hidden from assistive technology) drawn by one path. */
export const icon = (d: string): SVGSVGElement => {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', d);
  svg.append(path);
  return svg;
};

/** The URL if it is an absolute http(s) URL, else undefined (javascript:, data:, relative…). */
export const safeUrl = (value: string): string | undefined => {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
};

/** Opens in a new browsing context that cannot reach back to this page. */
export const externalLink = (href: string, ...children: Child[]): HTMLAnchorElement =>
  h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, ...children);

const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'\u202a-\u202e\u2066-\u2069]+/gi;

/**
 * Text as text nodes, with the http(s) URLs in it turned into links the widget makes itself (trailing
 * punctuation stays text). Nothing else in the text becomes markup.
 */
export const linkify = (text: string): Node[] => {
  const nodes: Node[] = [];
  let last = 0;
  for (const match of text.matchAll(URL_IN_TEXT)) {
    const raw = match[0].replace(/[.,;:!?)\]}]+$/, '');
    const href = safeUrl(raw);
    const start = match.index;
    if (!href) continue;
    if (start > last) nodes.push(document.createTextNode(text.slice(last, start)));
    nodes.push(externalLink(href, raw));
    last = start + raw.length;
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)));
  return nodes;
};

/** Up to two initials of a display name ("agent-ann" → "AA", "Ann Lee" → "AL"). */
export const initials = (name: string): string =>
  name
    .split(/[\s._@-]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => [...part][0]?.toUpperCase() ?? '')
    .join('') || '?';

/** `template` with `{name}` placeholders filled. */
export const fill = (template: string, values: Record<string, string | number>): string =>
  template.replace(/\{(\w+)\}/g, (all, key: string) => String(values[key] ?? all));

/** The elements of `root` a Tab key can reach, in order. */
export const tabbables = (root: ParentNode): HTMLElement[] =>
  Array.from(
    root.querySelectorAll<HTMLElement>(
      'button,input,textarea,select,a[href],[tabindex]:not([tabindex="-1"])',
    ),
  ).filter(
    (element) =>
      !(element as HTMLButtonElement).disabled && element.getClientRects().length > 0 && isTabStop(element),
  );

/** A radio group is one tab stop: its checked radio, or its first when none is checked. */
const isTabStop = (element: HTMLElement): boolean => {
  if (!(element instanceof HTMLInputElement) || element.type !== 'radio') return true;
  const group = Array.from(
    element.form?.querySelectorAll<HTMLInputElement>(`input[name="${element.name}"]`) ?? [],
  );
  return (group.find((radio) => radio.checked) ?? group[0] ?? element) === element;
};
