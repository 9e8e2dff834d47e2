/** GET /v1/chats/{chatId} — the chat with its participants. */
import { chatPathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
  const identity = await authenticate(event);
  return json(200, await chats.get(identity, chatId));
});
