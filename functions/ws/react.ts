/**
 * react — like PUT (or with `remove: true` DELETE) …/reactions/{emoji}; the ack carries the counts after
 * it, so the fan-out does not push the same change back to this socket.
 */
import { ack } from '#shared/domain/envelopes.ts';
import { reactions } from '#shared/runtime/reactions.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('react', async ({ connectionId, frame, identity }) => {
  const change = await reactions.react(identity, frame.chatId, frame.messageId, frame.emoji, !frame.remove, {
    viaConnectionId: connectionId,
  });
  return ack(change, frame.requestId, { chatId: frame.chatId, tenantId: identity.tenantId });
});
