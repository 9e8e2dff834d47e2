/** POST /v1/realtime/tickets — a single-use, 60-second ticket for opening the WebSocket. */
import { createTicketBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { connections } from '#shared/runtime/connections.ts';

export const handler = httpHandler(async (event) => {
  parse(createTicketBody, event.body ? JSON.parse(String(event.body)) : undefined, 'body');
  const identity = await authenticate(event);
  return json(201, await connections.issueTicket(identity));
});
