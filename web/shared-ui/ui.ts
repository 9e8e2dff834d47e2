/**
 * What the emoji picker and the voice recorder share in both apps: an element helper (text only ever
 * as text, never HTML) and their stylesheet, adopted by the document (console) or the widget's shadow
 * root as a constructed stylesheet (allowed by the pages' style-src without an inline style).
 */

type Attr = string | number | boolean | undefined;

export const el = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs))
    if (value !== undefined && value !== false)
      element.setAttribute(name, value === true ? '' : String(value));
  element.append(...children);
  return element;
};

export const CSS = `
.su-picker{box-sizing:border-box;flex:1 0 100%;max-width:20rem;border:1px solid #8a92a5;border-radius:8px;background:#fff;color:#1c2230;padding:4px;box-shadow:0 4px 16px rgba(0,0,0,.18)}
.su-list{max-height:13rem;overflow-y:auto;outline:none}
.su-list:focus-visible{outline:2px solid #1f4fd1;outline-offset:1px}
.su-group{display:grid;grid-template-columns:repeat(8,1fr)}
.su-label{grid-column:1/-1;font-size:.75rem;color:#545d70;padding:4px 2px 2px}
.su-option{font-size:1.25rem;line-height:1.9rem;text-align:center;border-radius:4px;cursor:pointer;user-select:none}
.su-option:hover{background:#eceef2}
.su-option[aria-selected=true]{background:#dbe4ff;box-shadow:inset 0 0 0 2px #1f4fd1}
.su-rec{display:flex;align-items:center;gap:8px;padding:4px 8px;flex-wrap:wrap}
.su-rec meter{width:6rem}
.su-dot{width:10px;height:10px;border-radius:50%;background:#c0152f}
`;

const adopted = new WeakSet<Document | ShadowRoot>();

/** The shared stylesheet in `root` (once). */
export const adoptStyles = (root: Node): void => {
  const target = root instanceof ShadowRoot || root instanceof Document ? root : document;
  if (adopted.has(target)) return;
  adopted.add(target);
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  target.adoptedStyleSheets = [...target.adoptedStyleSheets, sheet];
};
