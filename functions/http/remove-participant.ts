/** DELETE /v1/chats/{chatId}/participants/{userId} — remove a participant, or leave the chat. */
import { participantPathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';
import { connections } from '#shared/runtime/connections.ts';

export const handler = httpHandler(async (event) => {
  const { chatId, userId } = parse(participantPathParams, event.pathParameters, 'path');
  const identity = await authenticate(event);
  const chat = await chats.removeParticipant(identity, chatId, userId);
  await connections.dropUser(chatId, userId);
  return json(200, chat);
});
