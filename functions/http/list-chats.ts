/**
 * GET /v1/chats — the caller's chats (agents and services: the tenant's), newest activity first,
 * optionally filtered by status, assignee, participant, updatedAfter and `metadata__<key>[__<op>]`.
 */
import { parseListChatsQuery } from '#shared/domain/chat-filter.ts';
import { authenticate, httpHandler, json } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const query = parseListChatsQuery(event.queryStringParameters);
  const identity = await authenticate(event);
  return json(200, await chats.list(identity, query.limit, query.cursor, query.filter));
});
