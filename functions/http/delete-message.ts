/**
 * DELETE /v1/chats/{chatId}/messages/{messageId} — soft-delete (text and attachment removed, seq kept);
 * the sender, or an agent of the tenant. Broadcasts `message.deleted`.
 */
import { messagePathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const { chatId, messageId } = parse(messagePathParams, event.pathParameters, 'path');
  const identity = await authenticate(event);
  return json(200, await chats.deleteMessage(identity, chatId, messageId));
});
