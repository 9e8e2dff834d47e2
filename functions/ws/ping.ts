/**
 * ping — answered with `pong` (keeps idle sockets open; API Gateway closes them after 10 minutes idle).
 * Deliberately touches no table: a keep-alive should cost nothing but the invocation.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { pong } from '../../shared/domain/envelopes.ts';
import { logger } from '../../shared/runtime.ts';
import {
  reply,
  type WsContext,
  type WsEvent,
  type WsMiddleware,
  type WsResult,
  wsErrors,
  wsFrame,
} from '../../shared/ws/middleware.ts';

export const handler = middy<WsEvent, WsResult, Error, WsContext>()
  .use(injectLambdaContext(logger, { resetKeys: true }) as WsMiddleware)
  .use(wsErrors())
  .use(wsFrame('ping'))
  .handler(async (_event, context) => reply(pong(context.requestId)));
