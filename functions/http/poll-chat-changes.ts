/**
 * GET /v1/chats/changes?<filter>&since=CURSOR&waitSeconds=0..20 — a live chat list without a socket
 * (agents, services): the chat.created / chat.updated / chat.assigned / chat.closed envelopes a socket
 * watching the same filter receives (`leftFilter` included), from the tenant's chat change log,
 * long-polling up to waitSeconds (answered early if the function runs short of time: middy's abort
 * signal, shared/http/middleware.ts). `nextPollMs` says when to poll again. Long polls count against
 * LONG_POLLS_PER_IDENTITY like the events poll's (`longPollRefused: true` past it).
 */
import { pollChatChangesQuery } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chatLists } from '#shared/runtime/chat-lists.ts';
import { env } from '#shared/runtime/env.ts';
import { quotas } from '#shared/runtime/quotas.ts';

export const handler = httpHandler(
  async (event, _context, { signal }) => {
    const { since, waitSeconds, ...filter } = parse(
      pollChatChangesQuery,
      event.queryStringParameters,
      'query',
    );
    const identity = await authenticate(event);
    const { result: poll, refused } = await quotas.longPoll(identity, waitSeconds, (wait) =>
      chatLists.poll(
        identity,
        { filter, waitSeconds: wait, ...(since === undefined ? {} : { since }) },
        env.POLL_INTERVAL_MS,
        signal,
      ),
    );
    // Lists change on any chat of the tenant: the console polls them at the quiet pace.
    return json(200, {
      ...poll,
      nextPollMs: env.POLL_IDLE_MS,
      ...(refused ? { longPollRefused: true } : {}),
    });
  },
  { longPoll: true },
);
