/** GET /v1/blocks — the users the caller has blocked, `{ items: [{ userId, blockedAt }], nextCursor? }`. */
import { listBlocksQuery } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { blocks } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const query = parse(listBlocksQuery, event.queryStringParameters, 'query');
  const identity = await authenticate(event);
  return json(200, await blocks.list(identity, query.limit, query.cursor));
});
