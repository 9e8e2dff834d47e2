/**
 * subscribe — the connection receives the chats' envelopes from now on: one chat (`chatId`, `after`) or
 * several in one frame (`chats`, each with its own `after`: what a reconnecting client sends). The ack
 * carries each chat's `lastSeq` and `lastEventSeq`; with `after` (the last seq the client holds) also
 * the messages after it (`messages`, `hasMore`), so a reconnecting client catches up without a separate
 * request. A client still behind fetches the rest with GET …/messages?after= and the event log with
 * GET …/events. One chat: its fields are the ack's `data` and the envelope names the chat; several:
 * `data.chats` holds them, one entry per chat in the frame's order.
 */
import { ack } from '#shared/domain/envelopes.ts';
import { chats } from '#shared/runtime/chats.ts';
import { connections } from '#shared/runtime/connections.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('subscribe', async ({ connection, frame, identity }) => {
  const wanted = frame.chats ?? (frame.chatId ? [{ chatId: frame.chatId, after: frame.after }] : []);
  const results = await chats.subscribe(identity, wanted, (chatIds, membersVersions) =>
    connections.subscribe(connection, chatIds, membersVersions),
  );
  const [only] = results;
  if (frame.chats === undefined && only) {
    const { chat, ...positions } = only;
    return ack({ subscribed: true, ...positions }, frame.requestId, {
      chatId: chat.chatId,
      tenantId: chat.tenantId,
    });
  }
  return ack(
    {
      subscribed: true,
      chats: results.map(({ chat, ...positions }) => ({ chatId: chat.chatId, ...positions })),
    },
    frame.requestId,
    { tenantId: identity.tenantId },
  );
});
