/**
 * sendMessage — like POST /v1/chats/{chatId}/messages; the ack carries the stored message and its seq,
 * so the fan-out does not push the same message back to this socket (docs/protocol.md, "Delivery"). The
 * fan-out counts the stored message (`MessagesSent`), so a send writes no metric line.
 */
import { ack } from '#shared/domain/envelopes.ts';
import { chats } from '#shared/runtime/chats.ts';
import { quotas } from '#shared/runtime/quotas.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('sendMessage', async ({ connectionId, frame, identity }) => {
  await quotas.take('messages', identity);
  const { action: _action, requestId: _requestId, chatId, ...content } = frame;
  const { message, created } = await chats.send(identity, chatId, content, { viaConnectionId: connectionId });
  return ack({ message, created }, frame.requestId, { chatId, seq: message.seq, tenantId: message.tenantId });
});
