/** $disconnect — forgets the connection and all its subscriptions. */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { logger } from '../../shared/runtime/logger.ts';
import { connections } from '../../shared/runtime/connections.ts';

export const handler = middy<APIGatewayProxyWebsocketEventV2, { statusCode: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    await connections.disconnect(event.requestContext.connectionId);
    return { statusCode: 200 };
  });
