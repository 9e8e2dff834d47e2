/** POST /v1/chats/{chatId}/system-events — services post their events as `system` messages. */
import { chatPathParams, systemEventBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';
import { quotas } from '#shared/runtime/quotas.ts';

export const handler = httpHandler(
  async (event) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const input = parse(systemEventBody, event.body, 'body');
    const identity = await authenticate(event);
    await quotas.take('systemEvents', identity);
    const { message, created } = await chats.systemEvent(identity, chatId, input);
    return json(created ? 201 : 200, message);
  },
  { body: true },
);
