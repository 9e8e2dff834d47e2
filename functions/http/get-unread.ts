/** GET /v1/unread — the caller's unread counts per chat and in total. */
import { authenticate, httpHandler, json } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const identity = await authenticate(event);
  return json(200, await chats.unread(identity));
});
