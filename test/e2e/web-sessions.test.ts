/**
 * What the web apps rely on, through the local cloud: visitor token renewal (same visitor, same chat),
 * the public widget settings, the demo tenant's port-wildcard origins (API and S3 uploads), and the web
 * server's CORS, cache and CSP headers.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { inlineHashes } from '../../infra/web-csp.ts';
import { WEB_ROOT } from '../../infra/web-build.ts';
import { api, until } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cloud = await startLocalCloud({
    webPort: 0,
    httpPort: 0,
    wsPort: 0,
    // Visitor tokens expire within seconds here, so renewal is exercised for real.
    env: { VISITOR_TOKEN_TTL_SECONDS: '2', AUTH_CLOCK_TOLERANCE_SECONDS: '0' },
  });
  client = api(cloud.urls.http);
});
afterAll(async () => {
  await cloud?.stop();
});

const post = (path: string, body: unknown, origin?: string) =>
  fetch(`${cloud.urls.http}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
    body: JSON.stringify(body),
  });

describe('visitor sessions', () => {
  it('renews an expired visitor token for the same visitor, who carries on in the same chat', async () => {
    const created = await post('/v1/visitors', { tenantId: 'demo', name: 'Vera' }, 'http://localhost:5173');
    const visitor = (await created.json()) as Record<string, string>;
    expect(created.status).toBe(201);
    expect(visitor.refreshToken).toEqual(expect.any(String));
    const chat = await client.call('POST', '/v1/chats', visitor.token, { subject: 'Order 42' });
    expect(chat.status).toBe(201);
    const chatId = chat.body.chatId as string;

    // The token expires: 401 with the contract's error body.
    await until(
      async () => (await client.call('GET', `/v1/chats/${chatId}`, visitor.token)).status === 401,
      20_000,
    );
    const expired = await client.call('GET', `/v1/chats/${chatId}`, visitor.token);
    expect(expired.body.error).toMatchObject({ code: 'unauthorized', message: 'token expired' });

    const response = await post(
      '/v1/visitors/refresh',
      { refreshToken: visitor.refreshToken },
      'http://127.0.0.1:8080',
    );
    const renewed = (await response.json()) as Record<string, string>;
    expect(response.status).toBe(200);
    expect(renewed.visitorId).toBe(visitor.visitorId);
    expect(renewed.token).not.toBe(visitor.token);
    expect(Date.parse(renewed.expiresAt ?? '')).toBeGreaterThan(Date.now());

    const message = await client.call('POST', `/v1/chats/${chatId}/messages`, renewed.token, {
      clientMessageId: 'after-renewal',
      type: 'text',
      text: 'still me',
    });
    expect(message.status).toBe(201);
    expect(message.body).toMatchObject({ chatId, senderId: visitor.visitorId });
    // The renewed token keeps the visitor's name.
    const claims = JSON.parse(Buffer.from(renewed.token?.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({ sub: visitor.visitorId, tenant: 'demo', name: 'Vera' });
    // The renewed refresh token renews again.
    const again = await client.call('POST', '/v1/visitors/refresh', undefined, {
      refreshToken: renewed.refreshToken,
    });
    expect(again.body.visitorId).toBe(visitor.visitorId);
  });

  it('refuses a bad refresh token, an access token or a malformed body', async () => {
    const visitor = await client.call('POST', '/v1/visitors', undefined, { tenantId: 'demo' });
    const [garbage, access, malformed] = await Promise.all([
      client.call('POST', '/v1/visitors/refresh', undefined, { refreshToken: 'not-a-token' }),
      client.call('POST', '/v1/visitors/refresh', undefined, { refreshToken: visitor.body.token }),
      client.call('POST', '/v1/visitors/refresh', undefined, { token: visitor.body.refreshToken }),
    ]);

    expect(garbage.status).toBe(401);
    expect(access.status).toBe(401);
    expect(malformed.status).toBe(400);
  });

  it('accepts the widget from any localhost or 127.0.0.1 port for tenant demo, and nothing else', async () => {
    const statuses = await Promise.all(
      [
        'http://localhost:3000',
        'http://localhost:61234',
        'http://127.0.0.1:5500',
        'https://evil.example',
        'http://localhost.evil.example:3000',
      ].map(async (origin) => (await post('/v1/visitors', { tenantId: 'demo' }, origin)).status),
    );

    expect(statuses).toEqual([201, 201, 201, 403, 403]);
  });

  it('lets any local page upload to the bucket (S3 CORS for the demo origins)', async () => {
    const visitor = await client.call('POST', '/v1/visitors', undefined, { tenantId: 'demo' });
    const token = visitor.body.token as string;
    const chat = await client.call('POST', '/v1/chats', token, {});
    const requested = await client.call(
      'POST',
      `/v1/chats/${chat.body.chatId as string}/attachments`,
      token,
      {
        fileName: 'a.png',
        contentType: 'image/png',
        size: 10,
      },
    );
    const upload = requested.body.upload as { url: string };

    const preflight = (origin: string) =>
      fetch(upload.url, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const [allowed, other] = await Promise.all([
      preflight('http://localhost:49152'),
      preflight('https://evil.example'),
    ]);

    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(other.status).toBe(403);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('widget settings', () => {
  it("serves a tenant's public widget settings, briefly cacheable, and 404 for an unknown tenant", async () => {
    const [known, unknown] = await Promise.all([
      fetch(`${cloud.urls.http}/v1/tenants/demo/widget`, { headers: { origin: 'https://host.example' } }),
      fetch(`${cloud.urls.http}/v1/tenants/nobody/widget`),
    ]);

    expect(known.status).toBe(200);
    expect(known.headers.get('cache-control')).toBe('public, max-age=60');
    expect(known.headers.get('access-control-allow-origin')).toBeTruthy();
    expect(await known.json()).toEqual({
      tenantId: 'demo',
      name: 'Demo',
      theme: {},
      greeting: expect.any(String),
      awayMessage: expect.any(String),
    });
    expect(unknown.status).toBe(404);
  });
});

describe('web server', () => {
  it('serves config.json to any origin, with the demo tenant', async () => {
    const response = await fetch(`${cloud.urls.web}/config.json`, {
      headers: { origin: 'https://host.example' },
    });

    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(await response.json()).toMatchObject({
      httpUrl: cloud.urls.http,
      wsUrl: cloud.urls.ws,
      tenantId: 'demo',
    });
  });

  it('sends the demo page with a CSP that allows its inline scripts and the API origins', async () => {
    const html = await readFile(join(WEB_ROOT, 'demo/index.html'), 'utf8');
    const response = await fetch(`${cloud.urls.web}/`);
    const csp = response.headers.get('content-security-policy') ?? '';

    for (const hash of inlineHashes(html).scripts) expect(csp).toContain(hash);
    expect(csp).toContain(`connect-src 'self' ${cloud.urls.http} ${cloud.urls.ws}`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(
      createHash('sha256')
        .update(await response.text())
        .digest('hex'),
    ).toBe(createHash('sha256').update(html).digest('hex'));
  });
});
