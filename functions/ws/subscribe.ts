/**
 * subscribe — the connection receives the chat's envelopes from now on. The ack carries `lastSeq` and
 * `lastEventSeq`: a client that has seen less fetches the gap with GET …/messages?after= (messages) and
 * GET …/events?afterEvent= (the chat's event log).
 */
import { ack } from '#shared/domain/envelopes.ts';
import { chats } from '#shared/runtime/chats.ts';
import { connections } from '#shared/runtime/connections.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('subscribe', async ({ connectionId, frame, identity }) => {
  const chat = await chats.authorize(identity, frame.chatId);
  await connections.subscribe(connectionId, chat.chatId);
  // Both are read (one consistent read) only once the subscription exists: a message or chat event
  // stored in between is then either counted here or pushed to this connection, never neither.
  const { lastSeq, lastEventSeq } = await chats.positions(chat.chatId);
  return ack({ subscribed: true, lastSeq, lastEventSeq }, frame.requestId, {
    chatId: chat.chatId,
    tenantId: chat.tenantId,
  });
});
