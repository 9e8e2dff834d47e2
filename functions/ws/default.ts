/**
 * $default — frames whose `action` matches no route: always an `error` envelope naming the problem
 * (malformed JSON, unknown action, or a frame that fails its schema). Nothing is changed.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { ValidationError } from '../../shared/domain/errors.ts';
import { logger } from '../../shared/runtime.ts';
import {
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
  .use(wsFrame())
  .handler(async (_event, context) => {
    // A frame that parses but reached $default names an action without a route.
    throw new ValidationError(`unsupported action ${context.frame?.action ?? ''}`);
  });
