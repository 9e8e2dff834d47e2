/** GET /v1/stats — agents and services: live connections, agents online, open chats, messages today (UTC). */
import { authenticate, httpHandler, json } from '#shared/http/middleware.ts';
import { stats } from '#shared/runtime/stats.ts';

export const handler = httpHandler(async (event) => {
  const identity = await authenticate(event);
  return json(200, await stats.get(identity));
});
