/**
 * What the local cloud exposes, and to whom: it listens on loopback only, the development token issuer
 * answers only the local web apps' origins, `/files/` serves an object only for a valid presigned URL,
 * and a host token can never take a visitor's id.
 */
import { existsSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { signHostToken } from '../../shared/auth/tokens.ts';
import { S3AttachmentStorage, S3RVER_CREDENTIALS } from '../../shared/adapters/s3-attachments.ts';
import { api } from '../support/clients.ts';

let cloud: LocalCloud;
let client: ReturnType<typeof api>;

beforeAll(async () => {
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  client = api(cloud.urls.http);
});
afterAll(async () => {
  await cloud?.stop();
});

/** This machine's first non-loopback IPv4 address, if it has one. */
const externalAddress = Object.values(networkInterfaces())
  .flat()
  .find((info) => info !== undefined && info.family === 'IPv4' && !info.internal)?.address;

/** Linux's table of TCP sockets (/proc/net/tcp, /proc/net/tcp6): the addresses listening on `port`. */
const listeningAddresses = (port: number): string[] => {
  const word = (hex: string): string[] =>
    (hex.match(/../g) ?? []).reverse().map((byte) => String(parseInt(byte, 16)));
  const decode = (hex: string): string => {
    if (hex.length === 8) return word(hex).join('.');
    const bytes = (hex.match(/.{8}/g) ?? []).flatMap(word).map(Number);
    const groups = Array.from({ length: 8 }, (_, i) =>
      (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16),
    );
    const text = groups.join(':');
    if (text === '0:0:0:0:0:ffff:7f00:1') return '::ffff:127.0.0.1';
    if (text === '0:0:0:0:0:0:0:1') return '::1';
    if (text === '0:0:0:0:0:0:0:0') return '::';
    return text;
  };
  return ['/proc/net/tcp', '/proc/net/tcp6'].flatMap((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A') // LISTEN
      .map((fields) => (fields[1] ?? '').split(':'))
      .filter(([, hexPort]) => hexPort !== undefined && parseInt(hexPort, 16) === port)
      .map(([hexAddress]) => decode(hexAddress ?? '')),
  );
};

/** Whether a TCP connection to `url`'s port on `address` is accepted. */
const reachable = async (url: string, address: string): Promise<boolean> => {
  const target = new URL(url);
  target.hostname = address;
  target.protocol = 'http:';
  try {
    await fetch(target, { signal: AbortSignal.timeout(5_000) });
    return true;
  } catch {
    return false;
  }
};

/** A GET of `path` exactly as written (fetch would resolve `..` and `%2e%2e` segments first). */
const rawGet = (base: string, path: string): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const { hostname, port } = new URL(base);
    const request = httpRequest({ hostname, port, path, method: 'GET' }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
    });
    request.once('error', reject);
    request.end();
  });

describe('listening address', () => {
  it('answers on localhost with fetch and ws', async () => {
    // Act
    const page = await fetch(`${cloud.urls.web}/config.json`);
    const api = await fetch(`${cloud.urls.http}/v1/tenants/demo/widget`);
    const socketStatus = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${cloud.urls.ws}?ticket=none`);
      ws.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
      ws.once('open', () => reject(new Error('opened without a ticket')));
      ws.once('error', reject);
    });

    // Assess: each server answered (the socket was refused by the $connect handler, not the network)
    expect(page.status).toBe(200);
    expect(api.status).toBeLessThan(500);
    expect(socketStatus).toBe(401);
  });

  it('gives no web page a CORS grant to DynamoDB Local (its default allow-list is *)', async () => {
    // Act: the preflight a page's fetch to DynamoDB Local would send, from the web apps and from elsewhere
    const preflights = await Promise.all(
      [new URL(cloud.urls.web).origin, 'https://attacker.example'].map((origin) =>
        fetch(cloud.urls.dynamodb, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type,x-amz-target,authorization',
          },
        }),
      ),
    );

    // Assess
    for (const preflight of preflights)
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it.skipIf(!existsSync('/proc/net/tcp'))(
    'listens on loopback addresses only: web, HTTP, WebSocket, S3 emulator and DynamoDB Local',
    () => {
      // Act
      const listening = Object.entries(cloud.urls).map(([name, url]) => ({
        name,
        addresses: listeningAddresses(Number(new URL(url).port)),
      }));

      // Assess: each port has a listener, and every listener is on a loopback address
      for (const { name, addresses } of listening) {
        expect(addresses, name).not.toEqual([]);
        for (const address of addresses)
          expect(['127.0.0.1', '::ffff:127.0.0.1', '::1'], `${name} on ${address}`).toContain(address);
      }
    },
  );

  it.skipIf(externalAddress === undefined)('is not reachable on the machine’s network address', async () => {
    const address = externalAddress ?? '';

    expect(await reachable(cloud.urls.web, address)).toBe(false);
    expect(await reachable(cloud.urls.http, address)).toBe(false);
    expect(await reachable(cloud.urls.ws, address)).toBe(false);
    expect(await reachable(cloud.urls.dynamodb, address)).toBe(false);
  });
});

describe('the development token issuer', () => {
  const preflight = (origin: string) =>
    fetch(`${cloud.urls.http}/v1/dev/tokens`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      },
    });
  const mint = (origin: string) =>
    fetch(`${cloud.urls.http}/v1/dev/tokens`, {
      method: 'POST',
      headers: { origin, 'content-type': 'application/json' },
      body: JSON.stringify({ tenantId: 'demo', userId: 'agent-cors', role: 'agent' }),
    });

  it('lets the local web apps’ origin read its tokens', async () => {
    const webOrigin = new URL(cloud.urls.web).origin;

    const allowed = await preflight(webOrigin);
    const minted = await mint(webOrigin);

    expect(allowed.headers.get('access-control-allow-origin')).toBe(webOrigin);
    expect(minted.status).toBe(201);
    expect(minted.headers.get('access-control-allow-origin')).toBe(webOrigin);
  });

  it('gives any other origin no CORS grant, while the rest of the API keeps its policy', async () => {
    const other = 'https://attacker.example';

    const refused = await preflight(other);
    const minted = await mint(other);
    const widget = await fetch(`${cloud.urls.http}/v1/tenants/demo/widget`, { headers: { origin: other } });

    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    expect(minted.headers.get('access-control-allow-origin')).toBeNull();
    expect(widget.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('/files/ on the web server', () => {
  const KEY = 'files/demo/ch_00000000000000000000/att_00000000000000000000';
  const BODY = 'attachment bytes';
  let signed: string;

  beforeAll(async () => {
    const s3 = new S3Client({
      endpoint: cloud.urls.s3,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: S3RVER_CREDENTIALS,
    });
    await s3.send(
      new PutObjectCommand({ Bucket: cloud.bucket, Key: KEY, Body: BODY, ContentType: 'text/plain' }),
    );
    s3.destroy();
    const storage = new S3AttachmentStorage({
      bucket: cloud.bucket,
      endpoint: cloud.urls.s3,
      downloadBase: cloud.urls.web,
    });
    signed = await storage.downloadUrl({
      key: KEY,
      fileName: 'notes.txt',
      contentType: 'text/plain',
      inline: false,
      expiresSeconds: 60,
    });
  });

  it('serves an object for its presigned URL', async () => {
    const response = await fetch(signed);

    expect(response.status).toBe(200);
    expect(await response.text()).toBe(BODY);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('neither serves nor lists without a valid presigned URL', async () => {
    const path = new URL(signed).pathname;
    const tampered = new URL(signed);
    tampered.searchParams.set('response-content-type', 'text/html');

    const responses = await Promise.all([
      rawGet(cloud.urls.web, path),
      rawGet(cloud.urls.web, `${tampered.pathname}${tampered.search}`),
      rawGet(cloud.urls.web, '/files/..'),
      rawGet(cloud.urls.web, '/files/%2e%2e/'),
      rawGet(cloud.urls.web, '/files/?list-type=2'),
    ]);

    expect(responses.map((response) => response.status)).toEqual([403, 403, 403, 403, 403]);
    for (const response of responses) expect(response.text).not.toContain(KEY);
  });
});

describe('visitor ids are never host ids', () => {
  it('refuses a host token whose subject is an existing visitor’s id, in reads and sends', async () => {
    // Prepare: a visitor with a chat and a message
    const visitor = await client.ok<{ visitorId: string; token: string }>('POST', '/v1/visitors', undefined, {
      tenantId: 'demo',
    });
    const chatId = await client.createChat(visitor.token, { subject: 'My order' });
    await client.ok('POST', `/v1/chats/${chatId}/messages`, visitor.token, {
      clientMessageId: 'c-1',
      type: 'text',
      text: 'private words',
    });
    const impostor = await signHostToken(process.env.AUTH_SECRET ?? '', {
      issuer: process.env.AUTH_ISSUER ?? '',
      audience: process.env.AUTH_AUDIENCE ?? '',
      tenantId: 'demo',
      userId: visitor.visitorId,
      role: 'user',
    });

    // Act
    const chat = await client.call('GET', `/v1/chats/${chatId}`, impostor);
    const history = await client.call('GET', `/v1/chats/${chatId}/messages`, impostor);
    const sent = await client.call('POST', `/v1/chats/${chatId}/messages`, impostor, {
      clientMessageId: 'c-2',
      type: 'text',
      text: 'hello from the impostor',
    });
    const minted = await client.call('POST', '/v1/dev/tokens', undefined, {
      tenantId: 'demo',
      userId: visitor.visitorId,
      role: 'user',
    });

    // Assess: refused, and the visitor's chat unchanged
    expect([chat.status, history.status, sent.status]).toEqual([401, 401, 401]);
    expect(minted.status).toBe(400);
    const own = await client.ok<{ items: { text?: string }[] }>(
      'GET',
      `/v1/chats/${chatId}/messages`,
      visitor.token,
    );
    expect(own.items.map((message) => message.text)).not.toContain('hello from the impostor');
  });
});
