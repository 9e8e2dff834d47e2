/** $connect — consumes the single-use ticket; without a valid one the upgrade is refused with 401. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { toErrorResponse } from '../../shared/domain/errors.ts';
import { logger } from '../../shared/runtime/logger.ts';
import { connections } from '../../shared/runtime/connections.ts';

type ConnectEvent = APIGatewayProxyWebsocketEventV2 & {
  queryStringParameters?: Record<string, string | undefined>;
};

export const handler = middy<ConnectEvent, { statusCode: number; body?: string }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
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
