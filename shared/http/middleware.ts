/**
 * The HTTP edge: one middy stack for every HTTP route, with the official middlewares, Powertools
 * logging/metrics, and the single mapping from domain errors to `{ error: { code, message, details } }`.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import httpCors from '@middy/http-cors';
import httpErrorHandler from '@middy/http-error-handler';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import httpJsonBodyParser from '@middy/http-json-body-parser';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type * as z from '../zod.ts';
import { DomainError, toErrorResponse, UnauthorizedError, ValidationError } from '../domain/errors.ts';
import type { Identity } from '../domain/identity.ts';
import { issuesOf } from '../domain/schemas.ts';
import { env } from '../runtime/env.ts';
import { logger } from '../runtime/logger.ts';
import { metrics } from '../runtime/metrics.ts';
import { tokens } from '../runtime/tokens.ts';

export type HttpEvent = Omit<APIGatewayProxyEventV2, 'body'> & { body?: unknown; rawBody?: string };
export type HttpResult = APIGatewayProxyStructuredResultV2;

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

/** Turns domain errors (and the body parser's) into exposed http errors with the contract's JSON body. */
const contractErrors = (): MiddlewareObj<HttpEvent, HttpResult> => ({
  onError: async (request) => {
    const error = request.error as (Error & { statusCode?: number; expose?: boolean }) | null;
    if (!error) return;
    let mapped = toErrorResponse(error);
    if (!(error instanceof DomainError) && error.statusCode && error.statusCode < 500) {
      // Errors raised by the official middlewares (malformed JSON, wrong content type).
      mapped = toErrorResponse(
        error.message === 'Unsupported Media Type'
          ? new DomainError(415, 'unsupported_media_type', 'send the body as application/json')
          : new ValidationError('the body must be valid JSON'),
      );
    }
    if (mapped.status >= 500) logger.error('request failed', { error });
    request.error = Object.assign(new Error(JSON.stringify(mapped.body)), {
      statusCode: mapped.status,
      expose: true,
    });
  },
});

const internalError = JSON.stringify(toErrorResponse(new Error()).body);

/** Wraps a handler in the standard stack. `body: true` for routes that take a JSON body. */
export const httpHandler = (
  handler: (event: HttpEvent, context: Context) => Promise<HttpResult>,
  options: { body?: boolean } = {},
) => {
  const stack = middy<HttpEvent, HttpResult>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(httpHeaderNormalizer());
  if (options.body)
    stack.use(httpJsonBodyParser({ disableContentTypeError: false }) as MiddlewareObj<HttpEvent, HttpResult>);
  return stack
    .use(httpCors({ origins: env.CORS_ORIGINS, headers: 'authorization,content-type', maxAge: 600 }))
    .use(httpSecurityHeaders())
    .use(httpErrorHandler({ fallbackMessage: internalError, logger: false }))
    .use(contractErrors())
    .handler(handler);
};
