/**
 * $default — frames whose `action` matches no route: always an `error` envelope naming the problem
 * (malformed JSON, unknown action, or a frame that fails its schema). Nothing is changed.
 */
import { ValidationError } from '#shared/domain/errors.ts';
import { wsFrameStack } from '#shared/ws/middleware.ts';

export const handler = wsFrameStack().handler(async (_event, context) => {
  // A frame that parses but reached $default names an action without a route.
  throw new ValidationError(`unsupported action ${context.frame?.action ?? ''}`);
});
