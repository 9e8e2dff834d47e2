/** unsubscribe — stops the chat's envelopes on this connection (idempotent). */
import { ack } from '#shared/domain/envelopes.ts';
import { connections } from '#shared/runtime/connections.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('unsubscribe', async ({ connectionId, frame }) => {
  await connections.unsubscribe(connectionId, frame.chatId);
  return ack({ subscribed: false }, frame.requestId, { chatId: frame.chatId });
});
