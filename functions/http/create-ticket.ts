/** POST /v1/realtime/tickets — a single-use, 60-second ticket for opening the WebSocket. */
import { createTicketBody } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, optionalJsonBody, parse } from '#shared/http/middleware.ts';
import { connections } from '#shared/runtime/connections.ts';
import { quotas } from '#shared/runtime/quotas.ts';

export const handler = httpHandler(async (event) => {
  parse(createTicketBody, optionalJsonBody(event), 'body');
  const identity = await authenticate(event);
  await quotas.take('sockets', identity);
  return json(201, await connections.issueTicket(identity));
});
