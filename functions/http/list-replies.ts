/** GET /v1/chats/{chatId}/messages/{messageId}/replies?after=&limit= — a message's thread, ascending seq. */
import { listRepliesQuery, messagePathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const { chatId, messageId } = parse(messagePathParams, event.pathParameters, 'path');
  const query = parse(listRepliesQuery, event.queryStringParameters, 'query');
  const identity = await authenticate(event);
  return json(200, await chats.replies(identity, chatId, messageId, query));
});
