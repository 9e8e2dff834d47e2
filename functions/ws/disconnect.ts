/**
 * $disconnect — forgets the connection and all its subscriptions. The logging context only, not the
 * metrics of the other WebSocket handlers (shared/ws/middleware.ts `wsStack`): it records no metric of
 * its own, and every socket pays for its cold start, which must stay within the keep-alive budget
 * (docs/benchmarks.md, "Cold starts"); Lambda's REPORT line still shows its init duration.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyWebsocketEventV2 } from 'aws-lambda';
import { connections } from '#shared/runtime/connections.ts';
import { logger } from '#shared/runtime/logger.ts';

export const handler = middy<APIGatewayProxyWebsocketEventV2, { statusCode: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    await connections.disconnect(event.requestContext.connectionId);
    return { statusCode: 200 };
  });
