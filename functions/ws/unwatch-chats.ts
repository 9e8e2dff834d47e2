/** unwatchChats — stops the connection's live chat list (idempotent). */
import { ack } from '#shared/domain/envelopes.ts';
import { connections } from '#shared/runtime/connections.ts';
import { wsAction } from '#shared/ws/action.ts';

export const handler = wsAction('unwatchChats', async ({ connectionId, frame, identity }) => {
  await connections.unwatch(connectionId, identity);
  return ack({ watching: false }, frame.requestId, { tenantId: identity.tenantId });
});
