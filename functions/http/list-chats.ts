/** GET /v1/chats — the caller's chats (agents and services: the tenant's), newest activity first. */
import { listChatsQuery } from '../../shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '../../shared/http/middleware.ts';
import { chats } from '../../shared/runtime.ts';

export const handler = httpHandler(async (event) => {
  const query = parse(listChatsQuery, event.queryStringParameters, 'query');
  const identity = await authenticate(event);
  return json(200, await chats.list(identity, query.limit, query.cursor));
});
