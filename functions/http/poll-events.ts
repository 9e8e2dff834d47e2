/**
 * GET /v1/chats/{chatId}/events?after=SEQ&afterEvent=N&since=CURSOR&waitSeconds=0..20 — the polling
 * fallback: the same envelopes a subscribed socket receives (messages, the event log, typing and
 * presence), long-polling up to waitSeconds (answered early if the function runs short of time: middy's
 * abort signal, shared/http/middleware.ts). `nextPollMs` says when to poll again: the browser SDK
 * short-polls (waitSeconds=0) at that pace. An identity holds at most LONG_POLLS_PER_IDENTITY long polls
 * at once: past that a poll is answered at once, with `longPollRefused: true` (shared/domain/quotas.ts).
 */
import { chatPathParams, pollEventsQuery } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';
import { env } from '#shared/runtime/env.ts';
import { quotas } from '#shared/runtime/quotas.ts';

export const handler = httpHandler(
  async (event, _context, { signal }) => {
    const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
    const query = parse(pollEventsQuery, event.queryStringParameters, 'query');
    const identity = await authenticate(event);
    const pace = { activeMs: env.POLL_ACTIVE_MS, idleMs: env.POLL_IDLE_MS };
    const { result, refused } = await quotas.longPoll(identity, query.waitSeconds, (waitSeconds) =>
      chats.events(identity, chatId, { ...query, waitSeconds }, env.POLL_INTERVAL_MS, pace, signal),
    );
    return json(200, refused ? { ...result, longPollRefused: true } : result);
  },
  { longPoll: true },
);
