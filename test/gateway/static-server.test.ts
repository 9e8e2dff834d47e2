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
const get = (base: string, rawPath: string, method = 'GET'): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const url = new URL(base);
    const req = httpRequest({ host: url.hostname, port: url.port, path: rawPath, method }, (res) => {
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

describe('static server', () => {
  let dir: string;
  let server: StaticServer;
  const runtimeConfig = { httpUrl: 'http://127.0.0.1:1', wsUrl: 'ws://127.0.0.1:2', stage: 'local' };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'static-server-'));
    const web = join(dir, 'web');
    await mkdir(join(web, 'demo'), { recursive: true });
    await mkdir(join(web, 'console'), { recursive: true });
    await mkdir(join(web, 'docs'), { recursive: true });
    await writeFile(join(web, 'demo', 'index.html'), '<!doctype html><title>demo</title>');
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
    expect(js?.body).toBe('export const app = 1;');
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
    const head = await get(server.url, '/demo/app.js', 'HEAD');
    const post = await get(server.url, '/demo/app.js', 'POST');
    // Assess
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String('export const app = 1;'.length));
    expect(post.status).toBe(405);
  });
});
