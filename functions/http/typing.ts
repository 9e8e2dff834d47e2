/**
 * POST /v1/chats/{chatId}/typing — the typing fallback for clients without a socket: the indicator reaches
 * the other users' sockets and, through the chat's typing state, their polls (GET …/events).
 */
import { chatPathParams, typingBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { typing } from '#shared/runtime/typing.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const body = parse(typingBody, event.body, 'body');
    const identity = await authenticate(event);
    const { isTyping, expiresInMs } = await typing.send(identity, chatId, body.isTyping);
    return json(202, { isTyping, expiresInMs });
  },
  { body: true },
);
