/** POST /v1/chats — creates a chat (or, with `unique: true`, returns the one for the same participants). */
import { createChatBody } from '../../shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '../../shared/http/middleware.ts';
import { chats } from '../../shared/runtime.ts';

export const handler = httpHandler(
  async (event) => {
    const body = parse(createChatBody, event.body, 'body');
    const identity = await authenticate(event);
    const { chat, created } = await chats.create(identity, body);
    return json(created ? 201 : 200, chat);
  },
  { body: true },
);
