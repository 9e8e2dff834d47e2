import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { type StaticServer, startStaticServer } from '../../infra/local/static-server.ts';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A raw request: the path is sent exactly as given (no URL normalization), to probe traversal. */
const get = (
  base: string,
  rawPath: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = httpRequest({ host: url.hostname, port: url.port, path: rawPath, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });

const LOADER = `
  (function (w, d) { w.ChatWidget = w.ChatWidget || function () {}; })(window, document);
  ChatWidget('init', { tenantId: 'demo' });
`;
const DEMO_PAGE = `<!doctype html><title>demo</title><script>${LOADER}</script><script src="/x.js"></script>`;
const JS = 'text/javascript; charset=utf-8';

describe('static server', () => {
  let dir: string;
  let server: StaticServer;
  let typeBuilds = 0;
  const runtimeConfig = { httpUrl: 'http://127.0.0.1:1', wsUrl: 'ws://127.0.0.1:2', stage: 'local' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'static-server-'));
    const web = join(dir, 'web');
    await mkdir(join(web, 'demo'), { recursive: true });
    await mkdir(join(web, 'console'), { recursive: true });
    await mkdir(join(web, 'docs'), { recursive: true });
    await writeFile(join(web, 'demo', 'index.html'), DEMO_PAGE);
    await writeFile(join(web, 'demo', 'app.js'), 'export const app = 1;');
    await writeFile(join(web, 'demo', 'style.css'), 'body { margin: 0 }');
    await writeFile(join(web, 'demo', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    await writeFile(join(web, 'demo', 'data.bin'), Buffer.from([1, 2, 3]));
    await writeFile(join(web, 'console', 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(web, 'docs', 'index.html'), '<!doctype html><title>docs</title>');
    await writeFile(join(dir, 'secret.txt'), 'top secret');
    await symlink(join(dir, 'secret.txt'), join(web, 'demo', 'escape.txt'));
    server = await startStaticServer({
      port: await freePort(),
      root: web,
      routes: { '/': 'demo/index.html', '/console': 'console/index.html' },
      runtimeConfig,
      assets: new Map([
        ['/widget.js', { body: Buffer.from('(()=>{})();'), contentType: JS }],
        ['/widget-media.js', { body: Buffer.from('export{};'), contentType: JS }],
        ['/sdk/chat.js', { body: Buffer.from('export{};'), contentType: JS }],
        ['/demo/app.js', { body: Buffer.from('export const built = 1;'), contentType: JS }],
      ]),
      lazyAssets: {
        '/sdk/chat.d.ts': async () => {
          typeBuilds++;
          return { body: Buffer.from('export {};'), contentType: 'application/typescript; charset=utf-8' };
        },
        '/sdk/none.d.ts': async () => undefined,
      },
      connectOrigins: ['http://localhost:3001', 'ws://localhost:3002/'],
    });
  });

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves mapped routes', async () => {
    // Act
    const root = await get(server.url, '/');
    const consoleApp = await get(server.url, '/console?tab=chats');
    // Assess
    expect(root.status).toBe(200);
    expect(root.body).toContain('<title>demo</title>');
    expect(root.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(consoleApp.body).toContain('<title>console</title>');
  });

  it('serves files with the right content types', async () => {
    // Act
    const [js, css, svg, bin] = await Promise.all(
      ['/demo/app.js', '/demo/style.css', '/demo/logo.svg', '/demo/data.bin'].map((path) =>
        get(server.url, path),
      ),
    );
    // Assess
    expect(js?.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js?.body).toBe('export const built = 1;'); // the built file wins over the plain one
    expect(css?.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(svg?.headers['content-type']).toBe('image/svg+xml');
    expect(bin?.headers['content-type']).toBe('application/octet-stream');
  });

  it('serves index.html for a directory', async () => {
    // Act
    const reply = await get(server.url, '/docs/');
    // Assess
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('<title>docs</title>');
  });

  it('serves the runtime configuration as /config.json', async () => {
    // Act
    const reply = await get(server.url, '/config.json');
    // Assess
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(reply.body)).toEqual(runtimeConfig);
  });

  it('sends no-cache headers on every response', async () => {
    // Act
    const file = await get(server.url, '/demo/app.js');
    const config = await get(server.url, '/config.json');
    // Assess
    for (const reply of [file, config]) {
      expect(reply.headers['cache-control']).toContain('no-store');
      expect(reply.headers['cache-control']).toContain('no-cache');
    }
  });

  it('answers 404 for missing files', async () => {
    // Act
    const reply = await get(server.url, '/demo/missing.js');
    // Assess
    expect(reply.status).toBe(404);
  });

  it('never serves files outside the root, however the path is encoded', async () => {
    // Prepare
    const attempts = [
      '/../secret.txt',
      '/demo/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/demo/%2e%2e/%2e%2e/secret.txt',
      '/..%2fsecret.txt',
      '/demo%2f..%2f..%2fsecret.txt',
      '/..%5csecret.txt',
      '/demo/escape.txt',
      `/${encodeURIComponent(join(dir, 'secret.txt'))}`,
      '/%00',
    ];
    // Act
    const replies = await Promise.all(attempts.map((path) => get(server.url, path)));
    // Assess
    for (const reply of replies) {
      expect(reply.status).toBe(404);
      expect(reply.body).not.toContain('top secret');
    }
  });

  it('answers HEAD without a body and refuses other methods with 405', async () => {
    // Act
    const head = await get(server.url, '/demo/style.css', 'HEAD');
    const post = await get(server.url, '/demo/app.js', 'POST');
    // Assess
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String('body { margin: 0 }'.length));
    expect(post.status).toBe(405);
  });

  it('lets any origin read config.json, the widget (and its media module) and the SDK, and nothing else', async () => {
    // Act
    const [config, widget, media, sdk, page, file] = await Promise.all(
      ['/config.json', '/widget.js', '/widget-media.js', '/sdk/chat.js', '/', '/demo/style.css'].map((path) =>
        get(server.url, path, 'GET', { origin: 'https://host.example' }),
      ),
    );
    const preflight = await get(server.url, '/config.json', 'OPTIONS', {
      origin: 'https://host.example',
      'access-control-request-method': 'GET',
      'access-control-request-headers': 'x-requested-with',
    });
    // Assess
    for (const reply of [config, widget, media, sdk])
      expect(reply?.headers['access-control-allow-origin']).toBe('*');
    for (const reply of [page, file]) expect(reply?.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-headers']).toBe('x-requested-with');
  });

  it('caches /widget.js briefly with an ETag and answers 304 when it is current', async () => {
    // Act
    const first = await get(server.url, '/widget.js');
    const etag = first.headers.etag ?? '';
    const again = await get(server.url, '/widget.js', 'GET', { 'if-none-match': etag });
    const weak = await get(server.url, '/widget.js', 'GET', { 'if-none-match': `"other", W/${etag}` });
    const stale = await get(server.url, '/widget.js', 'GET', { 'if-none-match': '"other"' });
    // Assess
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('public, max-age=300');
    expect(first.headers.pragma).toBeUndefined();
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect(again.status).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers.etag).toBe(etag);
    expect(again.headers['access-control-allow-origin']).toBe('*');
    expect(weak.status).toBe(304);
    expect(stale.status).toBe(200);
    expect(stale.body).toBe('(()=>{})();');
    // Other files keep no-store locally.
    expect((await get(server.url, '/sdk/chat.js')).headers['cache-control']).toContain('no-store');
  });

  it('sends HTML pages with a CSP allowing exactly their inline scripts by hash', async () => {
    // Prepare
    const hash = `'sha256-${createHash('sha256').update(LOADER).digest('base64')}'`;
    // Act
    const page = await get(server.url, '/');
    const consoleApp = await get(server.url, '/console');
    // Assess
    const csp = page.headers['content-security-policy'] ?? '';
    expect(csp).toContain(`script-src 'self' ${hash};`);
    expect(csp).toContain("connect-src 'self' http://localhost:3001 ws://localhost:3002;");
    for (const directive of [
      "style-src 'self'",
      "img-src 'self' data: blob:",
      "media-src 'self' blob:",
      "object-src 'none'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ])
      expect(csp).toContain(directive);
    expect(consoleApp.headers['content-security-policy']).toContain("script-src 'self';");
    expect(page.headers['referrer-policy']).toBe('strict-origin-when-cross-origin');
    expect((await get(server.url, '/demo/style.css')).headers['content-security-policy']).toBeUndefined();
  });

  it('builds a lazy file once, on its first request', async () => {
    // Act
    const [first, second] = await Promise.all([
      get(server.url, '/sdk/chat.d.ts'),
      get(server.url, '/sdk/chat.d.ts'),
    ]);
    const third = await get(server.url, '/sdk/chat.d.ts');
    const none = await get(server.url, '/sdk/none.d.ts');
    // Assess
    for (const reply of [first, second, third]) {
      expect(reply.status).toBe(200);
      expect(reply.body).toBe('export {};');
      expect(reply.headers['access-control-allow-origin']).toBe('*');
    }
    expect(typeBuilds).toBe(1);
    expect(none.status).toBe(404);
  });
});
