/** unwatchChats — stops the connection's live chat list (idempotent). */
import { ack } from '../../shared/domain/envelopes.ts';
import { realtime } from '../../shared/runtime/realtime.ts';
import { wsAction } from '../../shared/ws/action.ts';

export const handler = wsAction('unwatchChats', async ({ connectionId, frame, identity }) => {
  await realtime.unwatch(connectionId, identity);
  return ack({ watching: false }, frame.requestId, { tenantId: identity.tenantId });
});
