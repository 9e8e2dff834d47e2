/**
 * GET /v1/chats/{chatId}/events?after=SEQ&afterEvent=N&since=CURSOR&waitSeconds=0..20 — the polling
 * fallback: the same envelopes a subscribed socket receives (messages, the event log, typing and
 * presence), long-polling up to waitSeconds (bounded by the function's remaining time). `nextPollMs`
 * says when to poll again: the browser SDK short-polls (waitSeconds=0) at that pace.
 */
import { chatPathParams, pollEventsQuery } from '../../shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '../../shared/http/middleware.ts';
import { chats } from '../../shared/runtime/chats.ts';
import { env } from '../../shared/runtime/env.ts';

export const handler = httpHandler(async (event, context) => {
  const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
  const query = parse(pollEventsQuery, event.queryStringParameters, 'query');
  const identity = await authenticate(event);
  const budget = Math.floor((context.getRemainingTimeInMillis() - 2_000) / 1000);
  const waitSeconds = Math.max(0, Math.min(query.waitSeconds, budget));
  const pace = { activeMs: env.POLL_ACTIVE_MS, idleMs: env.POLL_IDLE_MS };
  return json(
    200,
    await chats.events(identity, chatId, { ...query, waitSeconds }, env.POLL_INTERVAL_MS, pace),
  );
});
