/**
 * The HTTP stack (shared/http/middleware.ts, shared/http/errors.ts) invoked directly: the contract's
 * error envelope set as the response, no CORS headers from functions (API Gateway sets them), and the
 * long-poll early timeout.
 */
import type { Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConflictError, ValidationError } from '../../shared/domain/errors.ts';
import type * as HttpMiddleware from '../../shared/http/middleware.ts';
import { useHandlerTestEnv } from '../support/handler-env.ts';

useHandlerTestEnv();

type Middleware = typeof HttpMiddleware;
let http: Middleware;

beforeAll(async () => {
  http = await import('../../shared/http/middleware.ts');
});

afterEach(() => {
  vi.useRealTimers();
});

const contextWith = (remainingMs: number) =>
  ({
    functionName: 'http-test',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:http-test',
    memoryLimitInMB: '256',
    awsRequestId: 'req-1',
    getRemainingTimeInMillis: () => remainingMs,
  }) as unknown as Context;

const eventOf = (options: { method?: string; body?: string; contentType?: string } = {}) => ({
  version: '2.0',
  routeKey: `${options.method ?? 'GET'} /v1/test`,
  rawPath: '/v1/test',
  rawQueryString: '',
  headers: {
    origin: 'https://app.example.com',
    ...(options.contentType ? { 'content-type': options.contentType } : {}),
  },
  requestContext: { http: { method: options.method ?? 'GET', path: '/v1/test' }, requestId: 'r1' },
  ...(options.body === undefined ? {} : { body: options.body }),
  isBase64Encoded: false,
});

interface Reply {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

const invoke = async (
  handler: ReturnType<Middleware['httpHandler']>,
  event = eventOf(),
  context = contextWith(60_000),
): Promise<Reply> => (await handler(event as never, context)) as Reply;

const lowerCased = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

describe('HTTP errors (set as the response, the contract envelope)', () => {
  it('answers a domain error with its status and { error: { code, message } }, as JSON with security headers', async () => {
    // Prepare
    const handler = http.httpHandler(async () => {
      throw new ConflictError('the chat is closed');
    });

    // Act
    const reply = await invoke(handler);

    // Assess
    expect(reply.statusCode).toBe(409);
    expect(JSON.parse(reply.body)).toEqual({ error: { code: 'conflict', message: 'the chat is closed' } });
    expect(lowerCased(reply.headers)).toMatchObject({
      'content-type': 'application/json',
      'x-content-type-options': 'nosniff',
    });
  });

  it('keeps the details of a validation error (parse)', async () => {
    // Prepare
    const handler = http.httpHandler(async () => {
      throw new ValidationError('invalid query', [{ path: ['limit'], message: 'too big' }]);
    });

    // Act
    const reply = await invoke(handler);

    // Assess
    expect(reply.statusCode).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({
      error: {
        code: 'invalid_request',
        message: 'invalid query',
        details: [{ path: ['limit'], message: 'too big' }],
      },
    });
  });

  it('answers anything else with a bare 500: no message, no stack', async () => {
    // Prepare
    const handler = http.httpHandler(async () => {
      throw new Error('ddb table arn:aws:dynamodb:secret exploded');
    });

    // Act
    const reply = await invoke(handler);

    // Assess
    expect(reply.statusCode).toBe(500);
    expect(JSON.parse(reply.body)).toEqual({ error: { code: 'internal', message: 'internal error' } });
    expect(reply.body).not.toContain('secret');
    expect(reply.body).not.toContain('at ');
  });

  it('maps the body parser’s errors: malformed JSON is a 400, another content type a 415', async () => {
    // Prepare
    const handler = http.httpHandler(async (event) => http.json(200, event.body), { body: true });

    // Act
    const malformed = await invoke(
      handler,
      eventOf({ method: 'POST', body: '{"a":', contentType: 'application/json' }),
    );
    const form = await invoke(handler, eventOf({ method: 'POST', body: 'a=1', contentType: 'text/plain' }));
    const fine = await invoke(
      handler,
      eventOf({ method: 'POST', body: '{"a":1}', contentType: 'application/json' }),
    );

    // Assess
    expect(malformed.statusCode).toBe(400);
    expect(JSON.parse(malformed.body)).toEqual({
      error: { code: 'invalid_request', message: 'the body must be valid JSON' },
    });
    expect(form.statusCode).toBe(415);
    expect(JSON.parse(form.body)).toEqual({
      error: { code: 'unsupported_media_type', message: 'send the body as application/json' },
    });
    expect(fine.statusCode).toBe(200);
    expect(JSON.parse(fine.body)).toEqual({ a: 1 });
  });
});

describe('CORS (API Gateway’s alone)', () => {
  it('functions set no Access-Control-* header, on success or error', async () => {
    // Prepare
    const ok = http.httpHandler(async () => http.json(200, { ok: true }));
    const failing = http.httpHandler(async () => {
      throw new ConflictError('no');
    });

    // Act
    const replies = [await invoke(ok), await invoke(failing)];

    // Assess
    for (const reply of replies) {
      expect(
        Object.keys(lowerCased(reply.headers)).filter((name) => name.startsWith('access-control-')),
      ).toEqual([]);
    }
  });
});

describe('long polls (middy’s early timeout)', () => {
  it('aborts the handler’s signal LONG_POLL_MARGIN_MS before the timeout, and the handler’s answer is the response', async () => {
    // Prepare: 30 ms before the margin
    const handler = http.httpHandler(
      (_event, _context, { signal }) =>
        new Promise((resolve) => {
          signal.addEventListener(
            'abort',
            () => resolve(http.json(200, { items: [], aborted: signal.aborted })),
            {
              once: true,
            },
          );
        }),
      { longPoll: true },
    );

    // Act
    const reply = await invoke(handler, eventOf(), contextWith(http.LONG_POLL_MARGIN_MS + 30));

    // Assess
    expect(reply.statusCode).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ items: [], aborted: true });
  });

  it('fails a long poll that has not answered LONG_POLL_GRACE_MS after the abort with a bare 500', async () => {
    // Prepare
    vi.useFakeTimers();
    const early = http.longPollTimeout.timeoutEarlyResponse();
    const settled = early.catch((error: unknown) => error);

    // Act
    await vi.advanceTimersByTimeAsync(http.LONG_POLL_GRACE_MS);
    const error = await settled;

    // Assess
    expect(http.longPollTimeout.timeoutEarlyInMillis).toBe(http.LONG_POLL_MARGIN_MS);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    const { errorResponse } = await import('../../shared/http/errors.ts');
    expect(errorResponse(error)).toMatchObject({
      statusCode: 500,
      body: JSON.stringify({ error: { code: 'internal', message: 'internal error' } }),
    });
  });

  it('leaves other routes on middy’s default: their signal is not aborted early', async () => {
    // Prepare
    const handler = http.httpHandler(async (_event, _context, { signal }) =>
      http.json(200, { aborted: signal.aborted }),
    );

    // Act
    const reply = await invoke(handler, eventOf(), contextWith(http.LONG_POLL_MARGIN_MS + 30));

    // Assess
    expect(JSON.parse(reply.body)).toEqual({ aborted: false });
  });
});
