/**
 * A small static file server for the web apps (demo, console) plus `/config.json` carrying the local
 * cloud's runtime configuration (endpoints etc.). Built files (infra/web-build.ts) are served first, then
 * plain files of the web root; requests can never escape the web root. Headers, as CloudFront sends them
 * deployed (infra/constructs/web.ts):
 *  - `/config.json`, `/widget.js`, `/widget-media.js` and `/sdk/*` carry `Access-Control-Allow-Origin: *` (the widget runs on
 *    other origins and fetches config.json from the origin it was served from);
 *  - `/widget.js` is cached briefly (`public, max-age=300`) with an ETag answered by 304; everything else
 *    is `no-store`, so edits show up on reload;
 *  - HTML pages carry a Content-Security-Policy allowing their own inline scripts by hash (infra/web-csp.ts).
 * A pass-through to S3 (`/files/`) may require a presigned URL, checked as S3 checks it
 * (infra/local/presigned-url.ts): the S3 emulator does not, and the bucket is private in AWS.
 */
import { createHash } from 'node:crypto';
import { readFile, realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SHORT_CACHE_PATHS, SHORT_CACHE_SECONDS, type WebAsset, type WebAssets } from '../web-build.ts';
import { contentSecurityPolicy, inlineHashes, originOf, PAGE_SECURITY_HEADERS } from '../web-csp.ts';
import { listen } from './free-port.ts';
import { type PresignedUrlKeys, s3ErrorXml, verifyPresignedUrl } from './presigned-url.ts';

export interface StaticServerOptions {
  readonly port: number;
  readonly host?: string;
  /** The web directory; every served file lies inside it. */
  readonly root: string;
  /** Exact request paths mapped to files relative to root, e.g. `{ '/': 'demo/index.html' }`. */
  readonly routes?: Readonly<Record<string, string>>;
  /** Served as `/config.json`. */
  readonly runtimeConfig: Readonly<Record<string, unknown>>;
  /**
   * Path prefixes passed on to another origin with the query string, like a CDN behaviour: e.g.
   * `{ '/files/': 'http://127.0.0.1:4569/bucket' }`. Responses get `X-Content-Type-Options: nosniff`.
   * With `presigned`, only requests carrying a valid, unexpired presigned S3 URL pass (403 otherwise).
   */
  readonly proxies?: Readonly<Record<string, string | ProxyTarget>>;
  /** Built files by URL path, served before the files of the root. */
  readonly assets?: WebAssets;
  /** Files built on their first request (slow builds, e.g. `/sdk/chat.d.ts`); undefined means 404. */
  readonly lazyAssets?: Readonly<Record<string, () => Promise<WebAsset | undefined>>>;
  /** Origins HTML pages may connect to (API, WebSocket, uploads), for their Content-Security-Policy. */
  readonly connectOrigins?: readonly string[];
}

export interface ProxyTarget {
  readonly target: string;
  /** Check S3 presigned URLs: the URL's host as signed (the S3 endpoint, `localhost:4569`) and the keys. */
  readonly presigned?: PresignedUrlKeys & { readonly signedHost: string };
}

export interface StaticServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
  '.xml': 'application/xml',
  '.pdf': 'application/pdf',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
};

const NO_CACHE = {
  'cache-control': 'no-store, no-cache, must-revalidate',
  pragma: 'no-cache',
  expires: '0',
  'x-content-type-options': 'nosniff',
};
const SHORT_CACHE = {
  'cache-control': `public, max-age=${SHORT_CACHE_SECONDS}`,
  'x-content-type-options': 'nosniff',
};

/**
 * Paths other origins may read: the runtime configuration, the widget (and the module it imports on
 * first use of voice or the emoji picker: a module script is fetched with CORS) and the SDK.
 */
export const isCrossOriginPath = (pathname: string): boolean =>
  pathname === '/config.json' ||
  pathname === '/widget.js' ||
  pathname === '/widget.js.map' ||
  pathname === '/widget-media.js' ||
  pathname === '/widget-media.js.map' ||
  pathname.startsWith('/sdk/');

const etagOf = (body: Buffer): string =>
  `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;

/** If-None-Match holds the ETag (or `*`): weak comparison, as for GET. */
const matches = (header: string | undefined, etag: string): boolean =>
  header !== undefined &&
  header
    .split(',')
    .map((value) => value.trim().replace(/^W\//, ''))
    .some((value) => value === etag || value === '*');

const inside = (root: string, candidate: string): boolean => {
  const rel = relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel) && !rel.split(sep).includes('..'));
};

/** CDN-style pass-through: status, body and the content headers of the origin, plus nosniff. */
const forward = async (request: IncomingMessage, res: ServerResponse, method: string, target: string) => {
  const upstream = await fetch(target, { method, headers: { accept: request.headers.accept ?? '*/*' } });
  res.statusCode = upstream.status;
  for (const name of ['content-type', 'content-length', 'content-disposition', 'etag', 'last-modified']) {
    const value = upstream.headers.get(name);
    if (value !== null) res.setHeader(name, value);
  }
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('cache-control', 'no-store');
  res.end(method === 'HEAD' ? undefined : Buffer.from(await upstream.arrayBuffer()));
};

/** The request's headers with one value each (repeated headers joined as HTTP allows). */
const singleValued = (request: IncomingMessage): Record<string, string> =>
  Object.fromEntries(
    Object.entries(request.headers).flatMap(([name, value]) =>
      value === undefined ? [] : [[name, Array.isArray(value) ? value.join(',') : value]],
    ),
  );

export const startStaticServer = async (options: StaticServerOptions): Promise<StaticServer> => {
  const host = options.host ?? '127.0.0.1';
  const root = await realpath(resolve(options.root));
  const routes = options.routes ?? {};

  const reply = (
    res: ServerResponse,
    method: string,
    statusCode: number,
    contentType: string,
    body: Buffer | string,
    headers: Readonly<Record<string, string>> = {},
  ): void => {
    const payload = typeof body === 'string' ? Buffer.from(body) : body;
    res.writeHead(statusCode, {
      ...(headers['cache-control'] ? { 'x-content-type-options': 'nosniff' } : NO_CACHE),
      ...headers,
      'content-type': contentType,
      'content-length': String(payload.length),
    });
    res.end(method === 'HEAD' ? undefined : payload);
  };

  const lazy = new Map<string, Promise<WebAsset | undefined>>();
  const builtAsset = async (pathname: string): Promise<WebAsset | undefined> => {
    const asset = options.assets?.get(pathname);
    if (asset) return asset;
    const make = options.lazyAssets?.[pathname];
    if (!make) return undefined;
    let pending = lazy.get(pathname);
    if (!pending) {
      pending = make();
      lazy.set(pathname, pending);
      // A failed build is tried again on the next request.
      pending.catch(() => lazy.delete(pathname));
    }
    return pending;
  };

  /** Cache, validator and CORS headers of a response for a path; 304 when the client's copy is current. */
  const send = (
    request: IncomingMessage,
    res: ServerResponse,
    method: string,
    pathname: string,
    contentType: string,
    body: Buffer,
  ): void => {
    const headers: Record<string, string> = {};
    if (isCrossOriginPath(pathname)) headers['access-control-allow-origin'] = '*';
    if (contentType.startsWith('text/html')) {
      const hashes = inlineHashes(body.toString('utf8'));
      headers['content-security-policy'] = contentSecurityPolicy({
        connect: (options.connectOrigins ?? []).map((url) => originOf(url) ?? url),
        scriptHashes: hashes.scripts,
        styleHashes: hashes.styles,
      });
      Object.assign(headers, PAGE_SECURITY_HEADERS);
    }
    if (SHORT_CACHE_PATHS.includes(pathname) && pathname !== '/config.json') {
      const etag = etagOf(body);
      Object.assign(headers, SHORT_CACHE, { etag });
      const ifNoneMatch = request.headers['if-none-match'];
      if (matches(ifNoneMatch, etag)) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
    }
    reply(res, method, 200, contentType, body, headers);
  };
  const notFound = (res: ServerResponse, method: string): void =>
    reply(res, method, 404, 'text/plain; charset=utf-8', 'Not Found');

  /** The file for a request path, or undefined when it does not exist or lies outside the root. */
  const locate = async (pathname: string): Promise<string | undefined> => {
    const mapped = routes[pathname];
    let relativePath: string;
    if (mapped !== undefined) {
      relativePath = mapped;
    } else {
      let decoded: string;
      try {
        decoded = decodeURIComponent(pathname);
      } catch {
        return undefined;
      }
      if (decoded.includes('\0') || decoded.includes('\\')) return undefined;
      relativePath = decoded;
    }
    const candidate = resolve(join(root, relativePath));
    if (!inside(root, candidate)) return undefined;
    try {
      let file = await realpath(candidate);
      // Symlinks may not lead out of the root either.
      if (!inside(root, file)) return undefined;
      const info = await stat(file);
      if (info.isDirectory()) {
        file = join(file, 'index.html');
        const indexInfo = await stat(file);
        if (!indexInfo.isFile()) return undefined;
      } else if (!info.isFile()) {
        return undefined;
      }
      return file;
    } catch {
      return undefined;
    }
  };

  const handle = async (request: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = (request.method ?? 'GET').toUpperCase();
    request.resume();
    const pathname = (request.url ?? '/').split('?')[0]?.split('#')[0] ?? '/';
    if (method === 'OPTIONS' && isCrossOriginPath(pathname)) {
      // A CORS preflight (a fetch with custom headers): simple GETs are allowed from any origin.
      res.writeHead(204, {
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, HEAD',
        'access-control-allow-headers': request.headers['access-control-request-headers'] ?? '',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      reply(res, method, 405, 'text/plain; charset=utf-8', 'Method Not Allowed');
      return;
    }
    const proxy = Object.entries(options.proxies ?? {}).find(([prefix]) => pathname.startsWith(prefix));
    if (proxy) {
      const { target, presigned } = typeof proxy[1] === 'string' ? { target: proxy[1] } : proxy[1];
      const url = request.url ?? '/';
      if (presigned) {
        const queryAt = url.indexOf('?');
        const verdict = verifyPresignedUrl(
          {
            method,
            path: `${new URL(target).pathname.replace(/\/+$/, '')}${pathname}`,
            rawQuery: queryAt === -1 ? '' : url.slice(queryAt + 1),
            headers: { ...singleValued(request), host: presigned.signedHost },
          },
          presigned,
        );
        if (!verdict.ok) {
          reply(res, method, 403, 'application/xml', s3ErrorXml(verdict));
          return;
        }
      }
      await forward(request, res, method, `${target}${url}`);
      return;
    }
    if (pathname === '/config.json') {
      const body = Buffer.from(JSON.stringify(options.runtimeConfig));
      send(request, res, method, pathname, 'application/json; charset=utf-8', body);
      return;
    }
    const asset = await builtAsset(pathname);
    if (asset) {
      send(request, res, method, pathname, asset.contentType, asset.body);
      return;
    }
    const file = await locate(pathname);
    if (file === undefined) {
      notFound(res, method);
      return;
    }
    const contentType = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    send(request, res, method, pathname, contentType, await readFile(file));
  };

  const server = createServer((request, res) => {
    handle(request, res).catch((error: unknown) => {
      console.error('[static-server] failed:', error);
      if (!res.headersSent) reply(res, 'GET', 500, 'text/plain; charset=utf-8', 'Internal Server Error');
      else res.destroy();
    });
  });

  const port = await listen(server, options.port, host);

  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolveClose, reject) => {
        server.close((error) => (error ? reject(error) : resolveClose()));
        server.closeAllConnections();
      }),
  };
};
