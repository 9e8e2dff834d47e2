/**
 * typing — pushes a `typing` envelope to the chat's other users' sockets (never the sender's own; not
 * history, kept only as the chat's typing state for pollers); at most one per user, chat and state per
 * second (`error` rate_limited otherwise).
 */
import { ack } from '#shared/domain/envelopes.ts';
import { typing } from '#shared/runtime/typing.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('typing', async ({ frame, identity }) => {
  const { isTyping, expiresInMs } = await typing.send(identity, frame.chatId, frame.isTyping);
  return ack({ isTyping, expiresInMs }, frame.requestId, {
    chatId: frame.chatId,
    tenantId: identity.tenantId,
  });
});
