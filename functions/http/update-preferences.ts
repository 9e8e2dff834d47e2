/** PATCH /v1/chats/{chatId}/preferences — the caller's own `{ muted }` for the chat. */
import { chatPathParams, preferencesBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const preferences = parse(preferencesBody, event.body, 'body');
    const identity = await authenticate(event);
    return json(200, await chats.setPreferences(identity, chatId, preferences));
  },
  { body: true },
);
