/** $connect — consumes the single-use ticket; without a valid one the upgrade is refused with 401. */
import { toErrorResponse } from '#shared/domain/errors.ts';
import { logger } from '#shared/runtime/logger.ts';
import { connections } from '#shared/runtime/connections.ts';
import { type WsEvent, wsStack } from '#shared/ws/middleware.ts';

type ConnectEvent = WsEvent & { queryStringParameters?: Record<string, string | undefined> };

export const handler = wsStack<ConnectEvent>().handler(async (event) => {
  const ticket = event.queryStringParameters?.ticket;
  try {
    await connections.connect(event.requestContext.connectionId, ticket);
    return { statusCode: 200 };
  } catch (error) {
    const { status, body } = toErrorResponse(error);
    if (status >= 500) logger.error('connect failed', { error });
    return { statusCode: status, body: JSON.stringify(body) };
  }
});
