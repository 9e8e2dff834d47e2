/**
 * DELETE /v1/chats/{chatId}/messages/{messageId}/reactions/{emoji} — the caller takes its reaction back
 * (none: nothing changes); answers the counts after it, like PUT.
 */
import { reactionPathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { reactions } from '#shared/runtime/reactions.ts';

export const handler = httpHandler(async (event) => {
  const { chatId, messageId, emoji } = parse(reactionPathParams, event.pathParameters, 'path');
  const identity = await authenticate(event);
  return json(200, await reactions.react(identity, chatId, messageId, emoji, false));
});
