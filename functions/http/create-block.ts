/** POST /v1/blocks — the caller blocks a user of its tenant: 201, or 200 when already blocked. */
import { blockBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { blocks } from '#shared/runtime/chats.ts';
import { logger } from '#shared/runtime/logger.ts';

export const handler = httpHandler(
  async (event) => {
    const body = parse(blockBody, event.body, 'body');
    const identity = await authenticate(event);
    const { block, created } = await blocks.block(identity, body.userId);
    // Blocking is per user, not per chat: no chat audit record, a structured log line instead.
    if (created)
      logger.info('user blocked', {
        tenantId: identity.tenantId,
        blockerId: identity.userId,
        blockedId: block.userId,
      });
    return json(created ? 201 : 200, block);
  },
  { body: true },
);
