/**
 * The HTTP and WebSocket edges refuse JSON too long or too deep with a 400 before any parser or schema
 * sees it (shared/http/middleware.ts, shared/ws/middleware.ts), and pagination cursors that are not
 * key-shaped (shared/adapters/dynamo/client.ts) are a 400 too.
 */
import type { Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor, invalidStartKey } from '../../shared/adapters/dynamo/client.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import { JSON_MAX_DEPTH } from '../../shared/domain/json-bounds.ts';
import type * as HttpMiddleware from '../../shared/http/middleware.ts';
import { useHandlerTestEnv } from '../support/handler-env.ts';

useHandlerTestEnv();

let http: typeof HttpMiddleware;
let ping: (event: unknown, context: Context) => Promise<{ statusCode: number; body?: string }>;

beforeAll(async () => {
  http = await import('../../shared/http/middleware.ts');
  ping = (await import('../../functions/ws/ping.ts')).handler as unknown as typeof ping;
});

const context = {
  functionName: 'edge-test',
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => 10_000,
} as Context;
const nestedText = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

const httpEvent = (body: string, options: { base64?: boolean; contentType?: string } = {}) => ({
  version: '2.0',
  routeKey: 'POST /v1/test',
  rawPath: '/v1/test',
  rawQueryString: '',
  headers: { 'content-type': options.contentType ?? 'application/json' },
  requestContext: { http: { method: 'POST', path: '/v1/test' }, requestId: 'r1' },
  body: options.base64 ? Buffer.from(body).toString('base64') : body,
  isBase64Encoded: options.base64 ?? false,
});

describe('HTTP bodies', () => {
  it('refuses a body nested deeper than JSON_MAX_DEPTH with 400 before the handler or a schema runs', async () => {
    // Prepare
    let ran = false;
    const handler = http.httpHandler(
      async () => {
        ran = true;
        return http.json(200, {});
      },
      { body: true },
    );

    // Act
    const result = await handler(httpEvent(`{"a":${nestedText(JSON_MAX_DEPTH)}}`) as never, context);

    // Assess
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(String(result.body))).toEqual({
      error: {
        code: 'invalid_request',
        message: `JSON input must not be nested more than ${JSON_MAX_DEPTH} levels deep`,
      },
    });
    expect(ran).toBe(false);
  });

  it('reads an optional body, base64-encoded or not, and refuses a malformed one with 400', async () => {
    // Prepare
    const handler = http.httpHandler(async (event) => http.json(200, { body: http.optionalJsonBody(event) }));

    // Act
    const plain = await handler(httpEvent('{"a":1}') as never, context);
    const encoded = await handler(
      httpEvent('{"a":2}', { base64: true, contentType: 'text/x' }) as never,
      context,
    );
    const malformed = await handler(httpEvent('{a') as never, context);

    // Assess
    expect(JSON.parse(String(plain.body))).toEqual({ body: { a: 1 } });
    expect(JSON.parse(String(encoded.body))).toEqual({ body: { a: 2 } });
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(String(malformed.body)).error.message).toBe('the body must be valid JSON');
  });
});

describe('WebSocket frames', () => {
  const frame = (body: string) => ({ requestContext: { connectionId: 'c1', routeKey: 'ping' }, body });

  it('answers a frame nested deeper than JSON_MAX_DEPTH with an invalid_request error envelope', async () => {
    // Act
    const result = await ping(frame(`{"action":"ping","requestId":"r1","x":${nestedText(50_000)}}`), context);

    // Assess
    const envelope = JSON.parse(String(result.body));
    expect(envelope).toMatchObject({ type: 'error', data: { code: 'invalid_request' } });
    expect(envelope.data.message).toContain('nested more than');
  });

  it('still echoes the requestId of a frame within the bounds', async () => {
    // Act
    const result = await ping(frame('{"action":"ping","requestId":"r2"}'), context);

    // Assess
    expect(JSON.parse(String(result.body))).toMatchObject({ type: 'pong', requestId: 'r2' });
  });
});

describe('pagination cursors', () => {
  const cursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it('decodes a cursor of string key attributes that belongs to the partition queried', () => {
    // Act
    const key = decodeCursor(cursor({ pk: 'P', sk: 'S' }), { pk: 'P' });

    // Assess
    expect(key).toEqual({ pk: 'P', sk: 'S' });
  });

  it.each([
    ['not base64 JSON', '%%%'],
    ['an array', cursor(['P'])],
    ['another partition', cursor({ pk: 'Q', sk: 'S' })],
    ['an attribute that is not a string', cursor({ pk: 'P', sk: { S: 'x' } })],
    ['an empty attribute', cursor({ pk: 'P', sk: '' })],
    ['more attributes than a key has', cursor({ pk: 'P', sk: 'S', a: 'a', b: 'b', c: 'c' })],
    ['an attribute name no table has', cursor({ pk: 'P', 'sk)': 'S' })],
  ])('refuses a cursor that is %s with a ValidationError', (_name, value) => {
    // Act
    const decode = () => decodeCursor(value, { pk: 'P' });

    // Assess
    expect(decode).toThrow(ValidationError);
  });

  it('recognises DynamoDB refusing a start key, only for requests that sent one', () => {
    // Prepare
    const refused = Object.assign(new Error('The provided starting key is invalid'), {
      name: 'ValidationException',
    });

    // Act
    const withKey = invalidStartKey(refused, { ExclusiveStartKey: { pk: 'P' } });
    const withoutKey = invalidStartKey(refused, {});

    // Assess
    expect([withKey, withoutKey]).toEqual([true, false]);
  });
});
