/** DELETE /v1/blocks/{userId} — unblocks; idempotent (204 whether or not the block existed). */
import { blockPathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, parse } from '#shared/http/middleware.ts';
import { blocks } from '#shared/runtime/chats.ts';
import { logger } from '#shared/runtime/logger.ts';

export const handler = httpHandler(async (event) => {
  const { userId } = parse(blockPathParams, event.pathParameters, 'path');
  const identity = await authenticate(event);
  await blocks.unblock(identity, userId);
  logger.info('user unblocked', {
    tenantId: identity.tenantId,
    blockerId: identity.userId,
    blockedId: userId,
  });
  return { statusCode: 204, headers: { 'cache-control': 'no-store' } };
});
