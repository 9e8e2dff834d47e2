/**
 * The HTTP edge: one middy stack for every HTTP route, with the official middlewares, Powertools
 * logging/metrics, and the error mapping of shared/http/errors.ts. CORS is not here: API Gateway answers
 * preflights and sets the CORS headers itself (shared/http/cors.ts).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj, type MiddyHandlerObject } from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from '../zod.ts';
import { UnauthorizedError, ValidationError } from '../domain/errors.ts';
import type { Identity } from '../domain/identity.ts';
import { jsonTextProblem, parseBoundedJson } from '../domain/json-bounds.ts';
import { issuesOf } from '../domain/schemas.ts';
import { logger } from '../runtime/logger.ts';
import { metrics } from '../runtime/metrics.ts';
import { tokens } from '../runtime/tokens.ts';
import { httpErrors } from './errors.ts';

export type HttpEvent = Omit<APIGatewayProxyEventV2, 'body'> & { body?: unknown; rawBody?: string };
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpRoute = (
  event: HttpEvent,
  context: Context,
  options: MiddyHandlerObject,
) => Promise<HttpResult>;

/** Parses a request part with its schema; failures become a 400 naming each problem. */
export const parse = <S extends z.ZodMiniType>(schema: S, value: unknown, what: string): z.infer<S> => {
  const result = schema.safeParse(value ?? (what === 'body' ? undefined : {}));
  if (!result.success) throw new ValidationError(`invalid ${what}`, issuesOf(result.error));
  return result.data;
};

/** Verifies the `Authorization: Bearer` token (visitor or host token) and returns the caller. */
export const authenticate = (event: HttpEvent): Promise<Identity> => {
  const header = event.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) return Promise.reject(new UnauthorizedError('missing bearer token'));
  return tokens.verify(match[1]);
};

export const json = (statusCode: number, body: unknown): HttpResult => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/** A long poll's `signal` aborts this long before the function's timeout; the poll then answers. */
export const LONG_POLL_MARGIN_MS = 2_000;
/** An aborted long poll that has not answered this long after is failed (500), before Lambda kills it. */
export const LONG_POLL_GRACE_MS = 1_000;

/**
 * middy's early timeout for long polls: the abort of the handler's `signal` is the poll's cue to answer
 * with what it has (shared/domain/long-poll.ts), so the early response waits for that answer and only
 * fails the request if none comes within the grace period.
 */
export const longPollTimeout = {
  timeoutEarlyInMillis: LONG_POLL_MARGIN_MS,
  timeoutEarlyResponse: (): Promise<never> =>
    new Promise((_resolve, reject) => {
      setTimeout(
        () =>
          reject(Object.assign(new Error('the long poll did not answer in time'), { name: 'TimeoutError' })),
        LONG_POLL_GRACE_MS,
      ).unref();
    }),
};

/** The raw body as text (API Gateway base64-encodes bodies that are not text); undefined when none. */
const bodyText = (event: HttpEvent): string | undefined => {
  if (typeof event.body !== 'string' || event.body === '') return undefined;
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
};

const MALFORMED_BODY = 'the body must be valid JSON';

/**
 * Refuses a body too long or nested too deep (shared/domain/json-bounds.ts) with a 400 before the JSON
 * body parser or any schema sees it: validation walks values recursively.
 */
export const jsonBounds = (): MiddlewareObj<HttpEvent, HttpResult> => ({
  before: async (request) => {
    const text = bodyText(request.event);
    const problem = text === undefined ? undefined : jsonTextProblem(text);
    if (problem) throw new ValidationError(problem);
  },
});

/**
 * The JSON body of a route whose body is optional (no content type needed): undefined without one;
 * too long, too deep or malformed is a 400.
 */
export const optionalJsonBody = (event: HttpEvent): unknown => {
  const text = bodyText(event);
  return text === undefined ? undefined : parseBoundedJson(text, MALFORMED_BODY);
};

/**
 * Wraps a handler in the standard stack. `body: true` for routes that take a JSON body; `longPoll: true`
 * for the long-poll routes, whose handler passes middy's `signal` to the loop.
 */
export const httpHandler = (handler: HttpRoute, options: { body?: boolean; longPoll?: boolean } = {}) => {
  const stack = middy<HttpEvent, HttpResult>(options.longPoll ? longPollTimeout : {})
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpHeaderNormalizer());
  if (options.body)
    stack
      .use(jsonBounds())
      .use(httpJsonBodyParser({ disableContentTypeError: false }) as MiddlewareObj<HttpEvent, HttpResult>);
  return stack.use(httpSecurityHeaders()).use(httpErrors()).handler(handler);
};
