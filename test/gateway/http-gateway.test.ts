import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { type HttpGateway, type HttpGatewayRoute, startHttpGateway } from '../../infra/local/http-gateway.ts';
import { HTTP_API_CORS } from '../../shared/http/cors.ts';

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const send = (
  base: string,
  method: string,
  path: string,
  options: { headers?: Record<string, string | string[]>; body?: string | Buffer } = {},
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method, headers: options.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });

const ALLOWED_ORIGIN = 'http://localhost:5173';

describe('http gateway (API Gateway HTTP API, payload v2.0)', () => {
  let gateway: HttpGateway;
  let slowGateway: HttpGateway;
  const seen: Array<{ event: APIGatewayProxyEventV2; context: Context }> = [];
  const capture =
    (result: APIGatewayProxyResultV2 = { statusCode: 200, body: 'ok' }) =>
    async (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyResultV2> => {
      seen.push({ event, context });
      return result;
    };
  const lastEvent = (): APIGatewayProxyEventV2 => {
    const last = seen.at(-1);
    if (!last) throw new Error('no event captured');
    return last.event;
  };

  beforeAll(async () => {
    const routes: HttpGatewayRoute[] = [
      { method: 'POST', path: '/v1/chats/{chatId}/messages', invoke: capture(), timeoutMs: 5_000 },
      { method: 'GET', path: '/v1/chats/{chatId}', invoke: capture({ statusCode: 200, body: 'param' }) },
      { method: 'GET', path: '/v1/chats/search', invoke: capture({ statusCode: 200, body: 'literal' }) },
      {
        method: 'GET',
        path: '/v1/plain',
        invoke: capture({ hello: 'world' } as unknown as APIGatewayProxyResultV2),
      },
      {
        method: 'GET',
        path: '/v1/structured',
        invoke: capture({
          statusCode: 201,
          headers: { 'X-Custom': 'yes', 'Access-Control-Allow-Origin': '*', 'content-type': 'image/png' },
          cookies: ['a=1; Path=/', 'b=2; HttpOnly'],
          body: Buffer.from([0x89, 0x50, 0x4e, 0x47]).toString('base64'),
          isBase64Encoded: true,
        }),
      },
      { method: 'POST', path: '/v1/upload', invoke: capture() },
      {
        method: 'GET',
        path: '/v1/boom',
        invoke: async () => {
          throw new Error('handler failure');
        },
      },
      { method: 'GET', path: '/files/{proxy+}', invoke: capture() },
    ];
    gateway = await startHttpGateway({
      port: await freePort(),
      routes,
      cors: {
        allowOrigins: [ALLOWED_ORIGIN],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        allowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
        maxAgeSeconds: 600,
      },
    });
    slowGateway = await startHttpGateway({
      port: await freePort(),
      routes: [
        {
          method: 'GET',
          path: '/slow',
          invoke: () =>
            new Promise((resolve) => setTimeout(() => resolve({ statusCode: 200, body: 'late' }), 1_000)),
        },
      ],
      cors: { allowOrigins: ['*'], allowHeaders: ['*'], allowMethods: ['*'], maxAgeSeconds: 0 },
      integrationTimeoutMs: 150,
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await slowGateway?.close();
  });

  it('builds the exact v2.0 event: route key, raw path/query, cookies, joined headers and query, decoded path params', async () => {
    // Prepare
    const body = JSON.stringify({ text: 'hi' });
    // Act
    const reply = await send(gateway.url, 'POST', '/v1/chats/chat%20one/messages?tag=a&tag=b&q=x%20y', {
      headers: {
        'Content-Type': 'application/json',
        'X-Multi': ['one', 'two'],
        Cookie: 'session=abc; theme=dark',
        'User-Agent': 'conformance-test',
      },
      body,
    });
    // Assess
    expect(reply.status).toBe(200);
    const event = lastEvent();
    expect(event.version).toBe('2.0');
    expect(event.routeKey).toBe('POST /v1/chats/{chatId}/messages');
    expect(event.rawPath).toBe('/v1/chats/chat%20one/messages');
    expect(event.rawQueryString).toBe('tag=a&tag=b&q=x%20y');
    expect(event.cookies).toEqual(['session=abc', 'theme=dark']);
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.headers['content-type']).toBe('application/json');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(Object.keys(event.headers).every((name) => name === name.toLowerCase())).toBe(true);
    expect(event.queryStringParameters).toEqual({ tag: 'a,b', q: 'x y' });
    expect(event.pathParameters).toEqual({ chatId: 'chat one' });
    expect(event.body).toBe(body);
    expect(event.isBase64Encoded).toBe(false);
    expect(event.requestContext).toMatchObject({
      accountId: expect.any(String),
      apiId: expect.any(String),
      domainName: `127.0.0.1:${gateway.port}`,
      domainPrefix: '127',
      http: {
        method: 'POST',
        path: '/v1/chats/chat%20one/messages',
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: 'conformance-test',
      },
      routeKey: 'POST /v1/chats/{chatId}/messages',
      stage: '$default',
    });
    expect(event.requestContext.requestId).toMatch(/^[A-Za-z0-9+/]{15}=$/);
    expect(event.requestContext.time).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
    expect(Math.abs(event.requestContext.timeEpoch - Date.now())).toBeLessThan(5_000);
    expect(reply.headers['apigw-requestid']).toBe(event.requestContext.requestId);
  });

  it('passes a Lambda context with a request id and a remaining-time countdown', async () => {
    // Act
    await send(gateway.url, 'POST', '/v1/chats/c1/messages', {
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    });
    // Assess
    const context = seen.at(-1)?.context;
    expect(context?.awsRequestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(context?.functionName).toBeTruthy();
    expect(context?.getRemainingTimeInMillis()).toBeGreaterThan(4_000);
    expect(context?.getRemainingTimeInMillis()).toBeLessThanOrEqual(5_000);
  });

  it('omits queryStringParameters, pathParameters, cookies and body when there are none', async () => {
    // Act
    await send(gateway.url, 'GET', '/files/a/b%2Fc.txt');
    const withProxy = lastEvent();
    await send(gateway.url, 'GET', '/v1/chats/search');
    // Assess
    expect(withProxy.pathParameters).toEqual({ proxy: 'a/b/c.txt' });
    const event = lastEvent();
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('pathParameters');
    expect(event).not.toHaveProperty('cookies');
    expect(event).not.toHaveProperty('body');
    expect(event.isBase64Encoded).toBe(false);
  });

  it('base64-encodes bodies with non-text content types', async () => {
    // Prepare
    const bytes = Buffer.from([0, 1, 2, 250, 255]);
    // Act
    await send(gateway.url, 'POST', '/v1/upload', {
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    const binary = lastEvent();
    await send(gateway.url, 'POST', '/v1/upload', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'a=1',
    });
    const form = lastEvent();
    // Assess
    expect(binary.isBase64Encoded).toBe(true);
    expect(binary.body).toBe(bytes.toString('base64'));
    expect(form.isBase64Encoded).toBe(true);
    expect(Buffer.from(form.body ?? '', 'base64').toString()).toBe('a=1');
  });

  it('prefers literal path segments over {param} segments', async () => {
    // Act
    const literal = await send(gateway.url, 'GET', '/v1/chats/search');
    const param = await send(gateway.url, 'GET', '/v1/chats/c42');
    // Assess
    expect(literal.body).toBe('literal');
    expect(param.body).toBe('param');
  });

  it('maps a structured result: status, headers, cookies as Set-Cookie, base64 body decoded', async () => {
    // Act
    const reply = await send(gateway.url, 'GET', '/v1/structured');
    // Assess
    expect(reply.status).toBe(201);
    expect(reply.headers['x-custom']).toBe('yes');
    expect(reply.headers['content-type']).toBe('image/png');
    expect(reply.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; HttpOnly']);
    expect(Buffer.from(reply.body, 'latin1').subarray(1, 4).toString()).toBe('PNG');
  });

  it('treats a result without statusCode as a 200 JSON body', async () => {
    // Act
    const reply = await send(gateway.url, 'GET', '/v1/plain');
    // Assess
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body)).toEqual({ hello: 'world' });
  });

  it('answers 404 {"message":"Not Found"} when no route matches the path or the method', async () => {
    // Act
    const unknownPath = await send(gateway.url, 'GET', '/v1/nothing-here');
    const wrongMethod = await send(gateway.url, 'DELETE', '/v1/chats/c1');
    // Assess
    expect(unknownPath.status).toBe(404);
    expect(JSON.parse(unknownPath.body)).toEqual({ message: 'Not Found' });
    expect(wrongMethod.status).toBe(404);
  });

  it('answers 500 {"message":"Internal Server Error"} when the handler throws', async () => {
    // Act
    const reply = await send(gateway.url, 'GET', '/v1/boom');
    // Assess
    expect(reply.status).toBe(500);
    expect(JSON.parse(reply.body)).toEqual({ message: 'Internal Server Error' });
  });

  it('answers 503 {"message":"Service Unavailable"} when the integration times out', async () => {
    // Act
    const started = Date.now();
    const reply = await send(slowGateway.url, 'GET', '/slow');
    // Assess
    expect(reply.status).toBe(503);
    expect(JSON.parse(reply.body)).toEqual({ message: 'Service Unavailable' });
    expect(Date.now() - started).toBeLessThan(900);
  });

  it('answers 413 for a body over 10 MB without invoking the handler', async () => {
    // Prepare
    const before = seen.length;
    // Act: declare an oversize body and wait for the gateway's verdict before sending it.
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/v1/upload`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'content-length': String(10 * 1024 * 1024 + 1) },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    // Assess
    expect(status).toBe(413);
    expect(seen.length).toBe(before);
  });

  it('answers 413 for a chunked body that grows over 10 MB', async () => {
    // Prepare
    const before = seen.length;
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    // Act
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${gateway.url}/v1/upload`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', (error) => (req.destroyed ? undefined : reject(error)));
      for (let index = 0; index < 11; index++) req.write(chunk);
      req.end();
    });
    // Assess
    expect(status).toBe(413);
    expect(seen.length).toBe(before);
  });

  it('answers CORS preflights itself with 204 and the configured allow-* headers for allowed origins', async () => {
    // Act
    const reply = await send(gateway.url, 'OPTIONS', '/v1/chats/c1/messages', {
      headers: {
        Origin: ALLOWED_ORIGIN,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
    // Assess
    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(reply.headers['access-control-allow-methods']).toBe('GET,POST,PUT,PATCH,DELETE,OPTIONS');
    expect(reply.headers['access-control-allow-headers']).toBe('authorization,content-type,idempotency-key');
    expect(reply.headers['access-control-max-age']).toBe('600');
    expect(reply.body).toBe('');
  });

  it('adds no allow-* headers to an OPTIONS without Access-Control-Request-Method (not a preflight, as AWS documents)', async () => {
    // Act
    const reply = await send(gateway.url, 'OPTIONS', '/v1/chats/c1', { headers: { Origin: ALLOWED_ORIGIN } });
    // Assess
    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    expect(reply.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('answers a preflight from a disallowed origin without allow-* headers', async () => {
    // Act
    const reply = await send(gateway.url, 'OPTIONS', '/v1/chats/c1', {
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    // Assess
    expect(reply.status).toBe(204);
    expect(reply.headers['access-control-allow-origin']).toBeUndefined();
    expect(reply.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('sets Access-Control-Allow-Origin and Vary: Origin for allowed origins, overriding the handler', async () => {
    // Act
    const allowed = await send(gateway.url, 'GET', '/v1/structured', { headers: { Origin: ALLOWED_ORIGIN } });
    const disallowed = await send(gateway.url, 'GET', '/v1/structured', {
      headers: { Origin: 'https://evil.example' },
    });
    const notFound = await send(gateway.url, 'GET', '/nope', { headers: { Origin: ALLOWED_ORIGIN } });
    // Assess
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
    expect(allowed.headers.vary).toBe('Origin');
    expect(disallowed.headers['access-control-allow-origin']).toBeUndefined();
    expect(notFound.headers['access-control-allow-origin']).toBe(ALLOWED_ORIGIN);
  });
});

describe('HTTP gateway with the local cloud’s CORS (the deployed API’s policy, shared/http/cors.ts)', () => {
  it('answers preflights with the policy and replaces the CORS headers a function returns', async () => {
    // Prepare
    const gateway = await startHttpGateway({
      port: await freePort(),
      routes: [
        {
          method: 'GET',
          path: '/v1/x',
          invoke: async () => ({
            statusCode: 200,
            headers: {
              'access-control-allow-origin': 'https://other.example',
              'access-control-max-age': '1',
            },
            body: '{}',
          }),
        },
      ],
      cors: { allowOrigins: ['*'], ...HTTP_API_CORS },
    });
    const origin = 'http://localhost:5173';

    // Act
    const preflight = await send(gateway.url, 'OPTIONS', '/v1/x', {
      headers: { Origin: origin, 'Access-Control-Request-Method': 'PATCH' },
    });
    const actual = await send(gateway.url, 'GET', '/v1/x', { headers: { Origin: origin } });
    await gateway.close();

    // Assess
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET,POST,PUT,PATCH,DELETE,OPTIONS',
      'access-control-allow-headers': 'authorization,content-type',
      'access-control-max-age': '3600',
    });
    expect(actual.headers['access-control-allow-origin']).toBe('*');
    expect(actual.headers['access-control-max-age']).toBeUndefined();
  });
});

describe('HTTP gateway with a route of its own CORS policy (local-only routes)', () => {
  it('answers that route’s preflights and responses with its policy, the others with the API’s', async () => {
    // Prepare: the development token issuer allows the local web origin only
    const web = 'http://localhost:3000';
    const gateway = await startHttpGateway({
      port: await freePort(),
      routes: [
        {
          method: 'POST',
          path: '/v1/dev/tokens',
          invoke: async () => ({ statusCode: 201, body: '{}' }),
          cors: { allowOrigins: [web], ...HTTP_API_CORS },
        },
        { method: 'POST', path: '/v1/chats', invoke: async () => ({ statusCode: 201, body: '{}' }) },
      ],
      cors: { allowOrigins: ['*'], ...HTTP_API_CORS },
    });
    const preflight = (path: string, origin: string) =>
      send(gateway.url, 'OPTIONS', path, {
        headers: { Origin: origin, 'Access-Control-Request-Method': 'POST' },
      });

    // Act
    const ownOrigin = await preflight('/v1/dev/tokens', web);
    const otherOrigin = await preflight('/v1/dev/tokens', 'https://attacker.example');
    const otherRoute = await preflight('/v1/chats', 'https://attacker.example');
    const minted = await send(gateway.url, 'POST', '/v1/dev/tokens', {
      headers: { Origin: 'https://attacker.example' },
    });
    await gateway.close();

    // Assess
    expect(ownOrigin.headers['access-control-allow-origin']).toBe(web);
    expect(otherOrigin.headers['access-control-allow-origin']).toBeUndefined();
    expect(otherRoute.headers['access-control-allow-origin']).toBe('*');
    expect(minted.status).toBe(201);
    expect(minted.headers['access-control-allow-origin']).toBeUndefined();
  });
});

describe('HTTP gateway while the local cloud is overloaded', () => {
  it('answers the shed routes 429 Too Many Requests without running them, and serves the others', async () => {
    // Prepare: a ticket route that is shed while overloaded, and another route
    let overloaded = true;
    const invoked: string[] = [];
    const gateway = await startHttpGateway({
      port: await freePort(),
      routes: [
        {
          method: 'POST',
          path: '/v1/realtime/tickets',
          invoke: async () => {
            invoked.push('ticket');
            return { statusCode: 201, body: '{}' };
          },
        },
        {
          method: 'POST',
          path: '/v1/chats',
          invoke: async () => {
            invoked.push('chat');
            return { statusCode: 201, body: '{}' };
          },
        },
      ],
      cors: { allowOrigins: ['*'], ...HTTP_API_CORS },
      shed: { routeKeys: ['POST /v1/realtime/tickets'], overloaded: () => overloaded },
    });

    // Act
    const shed = await send(gateway.url, 'POST', '/v1/realtime/tickets', { body: '{}' });
    const other = await send(gateway.url, 'POST', '/v1/chats', { body: '{}' });
    overloaded = false;
    const calm = await send(gateway.url, 'POST', '/v1/realtime/tickets', { body: '{}' });
    await gateway.close();

    // Assess
    expect(shed.status).toBe(429);
    expect(JSON.parse(shed.body)).toEqual({ message: 'Too Many Requests' });
    expect(other.status).toBe(201);
    expect(calm.status).toBe(201);
    expect(invoked).toEqual(['chat', 'ticket']);
  });
});

describe('HTTP gateway result serialization', () => {
  it('drops headers whose value is undefined, as Lambda’s JSON serialization does', async () => {
    // Prepare
    const { startHttpGateway: start } = await import('../../infra/local/http-gateway.ts');
    const { freePort: free } = await import('../../infra/local/free-port.ts');
    const gateway = await start({
      port: await free(),
      routes: [
        {
          method: 'GET',
          path: '/x',
          invoke: async () => ({
            statusCode: 200,
            headers: { server: undefined as unknown as string, 'x-kept': 'yes' },
            body: 'ok',
          }),
        },
      ],
      cors: { allowOrigins: ['*'], allowHeaders: [], allowMethods: ['GET'], maxAgeSeconds: 0 },
    });

    // Act
    const response = await fetch(`${gateway.url}/x`);

    // Assess
    expect(response.headers.get('x-kept')).toBe('yes');
    expect(response.headers.get('server')).toBeNull();
    await gateway.close();
  });
});
