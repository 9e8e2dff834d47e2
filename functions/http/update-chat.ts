/**
 * PATCH /v1/chats/{chatId} — subject, metadata, status (close with rating and feedback, or reopen).
 * Broadcasts `chat.updated` / `chat.closed` through the chat's event log and leaves an audit record.
 */
import { chatPathParams, patchChatBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const patch = parse(patchChatBody, event.body, 'body');
    const identity = await authenticate(event);
    return json(200, await chats.update(identity, chatId, patch));
  },
  { body: true },
);
