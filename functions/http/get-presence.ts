/** GET /v1/presence?userIds=a,b — agents and services: which of these users have a live socket. */
import { presenceQuery } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const { userIds } = parse(presenceQuery, event.queryStringParameters, 'query');
  const identity = await authenticate(event);
  return json(200, await chats.presenceOf(identity, userIds));
});
