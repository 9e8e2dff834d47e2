/** POST /v1/chats/{chatId}/assign — agents and services assign the chat to an agent. */
import { assignBody, chatPathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const { agentId } = parse(assignBody, event.body, 'body');
    const identity = await authenticate(event);
    return json(200, await chats.assign(identity, chatId, agentId));
  },
  { body: true },
);
