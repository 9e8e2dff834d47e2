/** POST /v1/chats/{chatId}/read — a read receipt `{ seq }`; broadcasts `receipt` when the position moves. */
import { chatPathParams, markReadBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const { seq } = parse(markReadBody, event.body, 'body');
    const identity = await authenticate(event);
    return json(200, await chats.markRead(identity, chatId, seq));
  },
  { body: true },
);
