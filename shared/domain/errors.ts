/**
 * Domain errors. Each carries a stable machine `code` and the HTTP status it maps to; the HTTP and
 * WebSocket edges turn them into `{ error: { code, message, details? } }` / `error` envelopes in one
 * place (shared/http/errors.ts, shared/ws/middleware.ts). Anything else is a 500 without details.
 */
export class DomainError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, details?: unknown) {
    super(400, 'invalid_request', message, details);
  }
}
export class UnauthorizedError extends DomainError {
  constructor(message = 'missing or invalid credentials') {
    super(401, 'unauthorized', message);
  }
}
export class ForbiddenError extends DomainError {
  constructor(message = 'not allowed') {
    super(403, 'forbidden', message);
  }
}
export class NotFoundError extends DomainError {
  constructor(what: string) {
    super(404, 'not_found', `${what} not found`);
  }
}
export class ConflictError extends DomainError {
  constructor(message: string) {
    super(409, 'conflict', message);
  }
}
export class RateLimitedError extends DomainError {
  constructor(
    message = 'too many requests, slow down',
    /** Seconds until a retry can succeed: the HTTP `Retry-After` header and the error's `retryAfter`. */
    readonly retryAfterSeconds?: number,
  ) {
    super(429, 'rate_limited', message);
  }
}
/** The store could not commit after bounded retries (heavy contention or throttling). */
export class BusyError extends DomainError {
  constructor(message = 'the service is busy, retry with the same clientMessageId') {
    super(503, 'busy', message);
  }
}

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown; retryAfter?: number };
}

/** The one mapping from any thrown value to a status and a body safe to show (no stack traces). */
export const toErrorResponse = (error: unknown): { status: number; body: ErrorBody } => {
  if (error instanceof DomainError) {
    const body: ErrorBody = { error: { code: error.code, message: error.message } };
    if (error.details !== undefined) body.error.details = error.details;
    if (error instanceof RateLimitedError && error.retryAfterSeconds !== undefined)
      body.error.retryAfter = error.retryAfterSeconds;
    return { status: error.status, body };
  }
  return { status: 500, body: { error: { code: 'internal', message: 'internal error' } } };
};
