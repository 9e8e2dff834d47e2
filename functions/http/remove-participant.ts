/**
 * DELETE /v1/chats/{chatId}/participants/{userId} — remove a participant, or leave the chat; the user's
 * live subscriptions to the chat are closed in the same request (503 `busy` to retry when they cannot be).
 */
import { participantPathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const { chatId, userId } = parse(participantPathParams, event.pathParameters, 'path');
  const identity = await authenticate(event);
  return json(200, await chats.removeParticipant(identity, chatId, userId));
});
