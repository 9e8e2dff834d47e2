/**
 * The HTTP edge's one error mapping: whatever a handler or a middleware throws becomes the contract's
 * `{ error: { code, message, details? } }` with its status, set as the response directly (as
 * shared/ws/middleware.ts does for sockets). Nothing internal is shown; 5xx are logged.
 */
import type { MiddlewareObj } from '@middy/core';
import { DomainError, toErrorResponse, ValidationError } from '../domain/errors.ts';
import { logger } from '../runtime/logger.ts';
import type { HttpEvent, HttpResult } from './middleware.ts';

/** Client errors raised by the official middlewares (wrong content type, malformed JSON) in contract terms. */
const asContractError = (error: unknown): unknown => {
  if (error instanceof DomainError) return error;
  const { statusCode, message } = (error ?? {}) as { statusCode?: unknown; message?: unknown };
  if (typeof statusCode !== 'number' || statusCode >= 500) return error;
  return message === 'Unsupported Media Type'
    ? new DomainError(415, 'unsupported_media_type', 'send the body as application/json')
    : new ValidationError('the body must be valid JSON');
};

/** The response for a failed request. */
export const errorResponse = (error: unknown): HttpResult & { statusCode: number } => {
  const { status, body } = toErrorResponse(asContractError(error));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  // A quota's refusal says when to come back (RFC 9110 Retry-After, in seconds); the body repeats it.
  if (body.error.retryAfter !== undefined) headers['retry-after'] = String(body.error.retryAfter);
  return { statusCode: status, headers, body: JSON.stringify(body) };
};

/**
 * Sets the error response. Use it after http-security-headers: middy runs `onError` in reverse order, so
 * the response exists when that middleware adds its headers.
 */
export const httpErrors = (): MiddlewareObj<HttpEvent, HttpResult> => ({
  onError: async (request) => {
    const response = errorResponse(request.error);
    if (response.statusCode >= 500) logger.error('request failed', { error: request.error });
    request.response = response;
  },
});
