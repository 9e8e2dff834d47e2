/** GET /v1/chats/{chatId}/audit — the chat's audit records, newest first (agents and services). */
import { auditQuery, chatPathParams } from '#shared/domain/schemas.ts';
import { authenticate, httpHandler, json, parse } from '#shared/http/middleware.ts';
import { chats } from '#shared/runtime/chats.ts';

export const handler = httpHandler(async (event) => {
  const { chatId } = parse(chatPathParams, event.pathParameters, 'path');
  const query = parse(auditQuery, event.queryStringParameters, 'query');
  const identity = await authenticate(event);
  return json(200, await chats.audit(identity, chatId, query.limit, query.cursor));
});
