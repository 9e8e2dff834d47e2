/** PATCH /v1/chats/{chatId}/messages/{messageId} — edit one's own message; broadcasts `message.updated`. */
import { editMessageBody, messagePathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId, messageId } = parse(messagePathParams, event.pathParameters, 'path');
    const { text } = parse(editMessageBody, event.body, 'body');
    const identity = await authenticate(event);
    return json(200, await chats.editMessage(identity, chatId, messageId, text));
  },
  { body: true },
);
