/**
 * subscribe — the connection receives the chat's envelopes from now on. The ack carries `lastSeq` and
 * `lastEventSeq`; with `after` (the last seq the client holds) it also carries the messages after it
 * (`messages`, `hasMore`), so a reconnecting client catches up without a separate request. A client
 * still behind fetches the rest with GET …/messages?after= and the event log with GET …/events.
 */
import { ack } from '#shared/domain/envelopes.ts';
import { chats } from '#shared/runtime/chats.ts';
import { connections } from '#shared/runtime/connections.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('subscribe', async ({ connection, frame, identity }) => {
  const { chat, ...positions } = await chats.subscribe(identity, frame.chatId, frame.after, (chatId) =>
    connections.subscribe(connection, chatId),
  );
  return ack({ subscribed: true, ...positions }, frame.requestId, {
    chatId: chat.chatId,
    tenantId: chat.tenantId,
  });
});
