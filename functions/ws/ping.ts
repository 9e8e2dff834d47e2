/**
 * ping — answered with `pong` (keeps idle sockets open; API Gateway closes them after 10 minutes idle).
 * Deliberately touches no table: a keep-alive should cost nothing but the invocation.
 */
import { pong } from '#shared/domain/envelopes.ts';
import { reply, wsFrameStack } from '#shared/ws/middleware.ts';

export const handler = wsFrameStack('ping').handler(async (_event, context) =>
  reply(pong(context.requestId)),
);
