/** GET /v1/chats/{chatId}/messages?after=|before=&limit= — history in ascending seq. */
import { chatPathParams, listMessagesQuery } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
  const query = parse(listMessagesQuery, event.queryStringParameters, 'query');
  const identity = await authenticate(event);
  return json(200, await chats.history(identity, chatId, query));
});
