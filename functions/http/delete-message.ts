/**
 * DELETE /v1/chats/{chatId}/messages/{messageId} — soft-delete (text and attachment removed, seq kept);
 * the sender, or an agent of the tenant. Broadcasts `message.deleted`; the message's earlier events lose
 * its text and attachment, and the attachment's file is deleted from the bucket.
 */
import { messagePathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { attachments } from '#shared/runtime/attachments.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const { chatId, messageId } = parse(messagePathParams, event.pathParameters, 'path');
  const identity = await authenticate(event);
  return json(
    200,
    await chats.deleteMessage(identity, chatId, messageId, (attachmentId) =>
      attachments.discard(attachmentId),
    ),
  );
});
