/**
 * The Content-Security-Policy of the web apps' HTML pages (the demo host page at `/`, the console at
 * `/console`), sent by the local static server per page and by CloudFront's response headers policy for
 * every page. No inline code runs except the pages' own inline scripts, allowed by their sha256 hashes
 * (the demo page's widget loader snippet): docs/protocol.md, "Content-Security-Policy", has the policy a
 * host site needs for the widget.
 */
import { createHash } from 'node:crypto';

const INLINE_SCRIPT = /<script\b([^>]*)>([\s\S]*?)<\/script\s*>/gi;
const INLINE_STYLE = /<style\b[^>]*>([\s\S]*?)<\/style\s*>/gi;

const hash = (text: string): string =>
  `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The CSP source expressions (`'sha256-…'`) of an HTML page's inline scripts and style elements. */
export const inlineHashes = (html: string): { scripts: string[]; styles: string[] } => {
  const scripts: string[] = [];
  for (const match of html.matchAll(INLINE_SCRIPT)) {
    const attributes = match[1] ?? '';
    const body = match[2] ?? '';
    // External scripts and data blocks (JSON, templates) need no hash.
    if (/\bsrc\s*=/i.test(attributes) || body.trim() === '') continue;
    const type = /\btype\s*=\s*["']?([^"'\s>]+)/i.exec(attributes)?.[1]?.toLowerCase();
    if (type && type !== 'module' && type !== 'text/javascript' && type !== 'application/javascript')
      continue;
    scripts.push(hash(body));
  }
  const styles = [...html.matchAll(INLINE_STYLE)].map((match) => hash(match[1] ?? ''));
  return { scripts: [...new Set(scripts)], styles: [...new Set(styles)] };
};

export interface CspOptions {
  /**
   * Sources the page's scripts call, as CSP source expressions: the HTTP API, the WebSocket API, the
   * uploads' origin (e.g. `https://api.example`, `wss://ws.example/production`).
   */
  readonly connect: readonly string[];
  readonly scriptHashes?: readonly string[];
  readonly styleHashes?: readonly string[];
}

/** The origin of a URL (`http://localhost:3001`, `ws://localhost:3002`); undefined when it is not one. */
export const originOf = (url: string): string | undefined => {
  try {
    const parsed = new URL(url);
    return parsed.origin === 'null' ? `${parsed.protocol}//${parsed.host}` : parsed.origin;
  } catch {
    return undefined;
  }
};

/** The policy text, one directive per concern. */
export const contentSecurityPolicy = (options: CspOptions): string => {
  const unique = (values: readonly string[]) => [...new Set(values)].join(' ');
  const connect = options.connect;
  return [
    `default-src 'self'`,
    `script-src ${unique(["'self'", ...(options.scriptHashes ?? [])])}`,
    `style-src ${unique(["'self'", ...(options.styleHashes ?? [])])}`,
    `img-src 'self' data: blob:`,
    // Voice messages: downloads come from this origin; a recording is played back from a blob: first.
    `media-src 'self' blob:`,
    `font-src 'self'`,
    `connect-src ${unique(["'self'", ...connect])}`,
    `worker-src 'self' blob:`,
    `object-src 'none'`,
    `base-uri 'none'`,
    `form-action 'self'`,
    `frame-ancestors 'none'`,
  ].join('; ');
};

/** Security headers of every HTML page besides the CSP. */
export const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'referrer-policy': 'strict-origin-when-cross-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};
