/**
 * POST /v1/chats/{chatId}/messages — appends a message with the next seq. The same clientMessageId
 * again returns the original message (200) and writes nothing. The fan-out counts the stored message
 * (`MessagesSent`), so a send writes no metric line.
 */
import { chatPathParams, sendMessageBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';
import { quotas } from '#shared/runtime/quotas.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const body = parse(sendMessageBody, event.body, 'body');
    const identity = await authenticate(event);
    await quotas.take('messages', identity);
    const { message, created } = await chats.send(identity, chatId, body);
    return json(created ? 201 : 200, message);
  },
  { body: true },
);
