/** markRead — like POST /v1/chats/{chatId}/read; the ack carries the read position and unread count. */
import { ack } from '#shared/domain/envelopes.ts';
import { chats } from '#shared/runtime/chats.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('markRead', async ({ frame, identity }) => {
  const state = await chats.markRead(identity, frame.chatId, frame.seq);
  return ack(state, frame.requestId, { chatId: frame.chatId, tenantId: identity.tenantId });
});
