/**
 * $connect — consumes the single-use ticket; without a valid one the upgrade is refused with 401. A
 * DynamoDB throttle that outlasts the SDK's retries (a reconnect storm on a hot partition) refuses the
 * upgrade with 429 and `Retry-After`, never 500: the client dials again after its backoff, with a new
 * ticket (this one is spent).
 */
import { errorName } from '#shared/adapters/dynamo/client.ts';
import { RateLimitedError, toErrorResponse } from '#shared/domain/errors.ts';
import { logger } from '#shared/runtime/logger.ts';
import { connections } from '#shared/runtime/connections.ts';
import { type WsEvent, wsStack } from '#shared/ws/middleware.ts';

type ConnectEvent = WsEvent & { queryStringParameters?: Record<string, string | undefined> };

/** DynamoDB's throttling errors (the SDK retries them with backoff first). */
const THROTTLES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);

export const handler = wsStack<ConnectEvent>().handler(async (event) => {
  const ticket = event.queryStringParameters?.ticket;
  try {
    await connections.connect(event.requestContext.connectionId, ticket);
    return { statusCode: 200 };
  } catch (caught) {
    const error = THROTTLES.has(errorName(caught))
      ? new RateLimitedError('too many connections opening, retry shortly', 1)
      : caught;
    const { status, body } = toErrorResponse(error);
    if (status >= 500) logger.error('connect failed', { error });
    if (status === 429) logger.warn('connect throttled', { error: caught });
    return {
      statusCode: status,
      body: JSON.stringify(body),
      ...(status === 429 ? { headers: { 'Retry-After': '1' } } : {}),
    };
  }
});
