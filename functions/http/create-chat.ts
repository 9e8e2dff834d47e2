/**
 * POST /v1/chats — creates a chat (or, with `unique: true`, returns the one for the same participants).
 * A new chat gets the responder's replies (the tenant's greeting / away message for visitors) as system
 * messages before the response, so they are its first seqs; a failing responder never fails the creation.
 */
import { createChatBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { autoReplies } from '#shared/runtime/auto-replies.ts';
import { chats } from '#shared/runtime/chats.ts';
import { logger } from '#shared/runtime/logger.ts';
import { quotas } from '#shared/runtime/quotas.ts';

export const handler = httpHandler(
  async (event) => {
    const body = parse(createChatBody, event.body, 'body');
    const identity = await authenticate(event);
    await quotas.take('chats', identity);
    const { chat, created } = await chats.create(identity, body);
    if (!created) return json(200, chat);
    const replies = await autoReplies.onChatCreated(identity, chat).catch((error: unknown) => {
      logger.warn('the responder failed; the chat is created without its replies', {
        error,
        chatId: chat.chatId,
      });
      return [];
    });
    const last = replies.at(-1);
    return json(201, last ? { ...chat, lastSeq: last.seq, lastActivityAt: last.createdAt } : chat);
  },
  { body: true },
);
