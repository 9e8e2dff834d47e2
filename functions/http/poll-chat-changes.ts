/**
 * GET /v1/chats/changes?<filter>&since=CURSOR&waitSeconds=0..20 — a live chat list without a socket
 * (agents, services): the chat.created / chat.updated / chat.assigned / chat.closed envelopes a socket
 * watching the same filter receives (`leftFilter` included), from the tenant's chat change log,
 * long-polling up to waitSeconds (bounded by the function's remaining time). `nextPollMs` says when
 * to poll again.
 */
import { pollChatChangesQuery } from '../../shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '../../shared/http/middleware.ts';
import { chatLists } from '../../shared/runtime/chat-lists.ts';
import { env } from '../../shared/runtime/env.ts';

export const handler = httpHandler(async (event, context) => {
  const { since, waitSeconds, ...filter } = parse(pollChatChangesQuery, event.queryStringParameters, 'query');
  const identity = await authenticate(event);
  const budget = Math.floor((context.getRemainingTimeInMillis() - 2_000) / 1000);
  const wait = Math.max(0, Math.min(waitSeconds, budget));
  const poll = await chatLists.poll(
    identity,
    { filter, waitSeconds: wait, ...(since === undefined ? {} : { since }) },
    env.POLL_INTERVAL_MS,
  );
  // Lists change on any chat of the tenant: the console polls them at the quiet pace.
  return json(200, { ...poll, nextPollMs: env.POLL_IDLE_MS });
});
