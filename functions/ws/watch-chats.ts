/**
 * watchChats — a live chat list for agents and services: `filter` takes the query parameters of
 * GET /v1/chats; chat.created / chat.updated / chat.assigned / chat.closed of matching chats follow,
 * with `leftFilter: true` when a change makes a chat stop matching. A new filter replaces the old one.
 */
import { parseWatchFilter } from '#shared/domain/chat-list-feed.ts';
import { ack } from '#shared/domain/envelopes.ts';
import { connections } from '#shared/runtime/connections.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('watchChats', async ({ connection, frame, identity }) => {
  await connections.watch(connection, frame.filter, parseWatchFilter);
  return ack({ watching: true, filter: frame.filter }, frame.requestId, { tenantId: identity.tenantId });
});
