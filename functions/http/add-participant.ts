/** POST /v1/chats/{chatId}/participants — add a participant (agents, services, the creator). */
import { addParticipantBody, chatPathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const { userId } = parse(addParticipantBody, event.body, 'body');
    const identity = await authenticate(event);
    return json(200, await chats.addParticipant(identity, chatId, userId));
  },
  { body: true },
);
