/**
 * Builds the OpenAPI 3.1 document of the HTTP API from the zod schemas (zod's own JSON Schema output),
 * one operation per route of the route table. `npm run docs:api` writes docs/openapi.json; a test fails
 * when the committed file is stale or a route is undocumented.
 */
import * as z from '../shared/zod.ts';
import { type HttpRoute, httpRoutes } from '../shared/config/routes.ts';
import * as s from '../shared/domain/schemas.ts';
import { statsSchema } from '../shared/domain/stats.ts';

interface Operation {
  summary: string;
  auth: boolean;
  body?: z.ZodMiniType;
  query?: z.ZodMiniType;
  response: z.ZodMiniType;
  status: number;
}

const page = (item: z.ZodMiniType) => z.object({ items: z.array(item), nextCursor: z.optional(z.string()) });

export const operations: Record<string, Operation> = {
  'POST /v1/visitors': {
    summary: 'Create an anonymous visitor of a tenant (public, rate limited per address)',
    auth: false,
    body: s.createVisitorBody,
    response: s.visitorSessionSchema,
    status: 201,
  },
  'POST /v1/visitors/refresh': {
    summary:
      "Renew a visitor's token from its refresh token: the same visitor and tenant, a new token and refresh token (public, rate limited per address; 401 for a bad or expired refresh token, 404 when the tenant is gone)",
    auth: false,
    body: s.refreshVisitorBody,
    response: s.visitorSessionSchema,
    status: 200,
  },
  'GET /v1/tenants/{tenantId}/widget': {
    summary:
      "A tenant's widget settings: name, theme, greeting and away text (public, cacheable for a minute; 404 for an unknown tenant)",
    auth: false,
    response: s.widgetSettingsSchema,
    status: 200,
  },
  'POST /v1/realtime/tickets': {
    summary: 'Get a single-use, 60-second ticket to open the WebSocket (`?ticket=`)',
    auth: true,
    response: z.object({ ticket: z.string(), url: z.string(), expiresAt: z.iso.datetime() }),
    status: 201,
  },
  'POST /v1/chats': {
    summary:
      'Create a chat (201), or with unique: true return the existing one for the same participants (200)',
    auth: true,
    body: s.createChatBody,
    response: s.chatSchema,
    status: 201,
  },
  'GET /v1/chats': {
    summary:
      "The caller's chats (agents and services: the tenant's), newest activity first; filters: status, assignee, participant, updatedAfter and metadata__<key>[__<op>]=value (op: eq ne gt gte lt lte between begins_with contains in exists; at least one indexed metadata key or standard field)",
    auth: true,
    query: s.listChatsQuery,
    response: page(s.chatSchema),
    status: 200,
  },
  'GET /v1/chats/changes': {
    summary:
      "Live chat list without a socket (agents, services): the tenant's chat.created / chat.updated / chat.assigned / chat.closed envelopes matching the filter (GET /v1/chats conditions except participant), leftFilter: true for a chat that stopped matching, after `since`; long-polls up to waitSeconds",
    auth: true,
    query: s.pollChatChangesQuery,
    response: z.object({
      items: z.array(s.envelopeSchema),
      /** Pass back as `since`. */
      nextSince: z.string(),
      /** More changes are waiting: poll again at once. */
      hasMore: z.boolean(),
      /** Otherwise poll again after this many ms. */
      nextPollMs: z.number().check(z.int()),
      /** The caller holds LONG_POLLS_PER_IDENTITY long polls already: answered without waiting. */
      longPollRefused: z.optional(z.boolean()),
    }),
    status: 200,
  },
  'GET /v1/chats/{chatId}': {
    summary: 'A chat with its participants',
    auth: true,
    response: s.chatSchema,
    status: 200,
  },
  'PATCH /v1/chats/{chatId}': {
    summary:
      'Change subject/metadata (agents, services, the creator) or status: close with rating and feedback, or reopen (participants); broadcasts chat.updated / chat.closed',
    auth: true,
    body: s.patchChatBody,
    response: s.chatSchema,
    status: 200,
  },
  'GET /v1/chats/{chatId}/audit': {
    summary: 'The chat’s audit records, newest first (agents and services)',
    auth: true,
    query: s.auditQuery,
    response: page(
      z.object({
        chatId: s.chatIdSchema,
        tenantId: s.tenantIdSchema,
        at: z.iso.datetime(),
        actorId: z.string(),
        actorRole: s.roleSchema,
        action: z.string(),
        before: z.optional(z.record(z.string(), z.unknown())),
        after: z.optional(z.record(z.string(), z.unknown())),
      }),
    ),
    status: 200,
  },
  'POST /v1/chats/{chatId}/read': {
    summary: 'Read receipt: the caller’s read position moves forward to seq (never back); broadcasts receipt',
    auth: true,
    body: s.markReadBody,
    response: z.object({ lastReadSeq: z.number().check(z.int()), unread: z.number().check(z.int()) }),
    status: 200,
  },
  'GET /v1/unread': {
    summary:
      'Unread messages per chat of the caller and in total; `mentions`: how many of them mention the caller',
    auth: true,
    response: s.unreadSchema,
    status: 200,
  },
  'GET /v1/presence': {
    summary:
      'Agents and services: whether each of 1 to 100 users (comma-separated `userIds`) has a live socket; one BatchGet',
    auth: true,
    query: s.presenceQuery,
    response: s.presenceSchema,
    status: 200,
  },
  'GET /v1/stats': {
    summary:
      'Agents and services: live connections, agents online, open chats and messages today (UTC day) of the tenant; counters, eventually consistent (messages and open chats trail by the stream fan-out)',
    auth: true,
    response: statsSchema,
    status: 200,
  },
  'POST /v1/chats/{chatId}/assign': {
    summary:
      'Assign the chat to an agent (agents, services): chat.assigned, the agent joins, a system message “<agent> joined”',
    auth: true,
    body: s.assignBody,
    response: s.chatSchema,
    status: 200,
  },
  'POST /v1/chats/{chatId}/system-events': {
    summary:
      'Services only: post { kind, text, data? } as a system message (e.g. payment.initiated, dispute.created)',
    auth: true,
    body: s.systemEventBody,
    response: s.messageSchema,
    status: 201,
  },
  'POST /v1/chats/{chatId}/participants': {
    summary: 'Add a participant (agents, services, the creator); broadcasts chat.updated with the new list',
    auth: true,
    body: s.addParticipantBody,
    response: s.chatSchema,
    status: 200,
  },
  'DELETE /v1/chats/{chatId}/participants/{userId}': {
    summary:
      'Remove a participant (agents, services, the creator) or leave the chat; broadcasts chat.updated',
    auth: true,
    response: s.chatSchema,
    status: 200,
  },
  'PATCH /v1/chats/{chatId}/preferences': {
    summary: 'The caller’s own { muted } for the chat (participants); returned with the chat',
    auth: true,
    body: s.preferencesBody,
    response: s.chatSchema,
    status: 200,
  },
  'PATCH /v1/chats/{chatId}/messages/{messageId}': {
    summary: 'Edit the text of one’s own message; broadcasts message.updated',
    auth: true,
    body: s.editMessageBody,
    response: s.messageSchema,
    status: 200,
  },
  'DELETE /v1/chats/{chatId}/messages/{messageId}': {
    summary:
      'Soft-delete a message (text and attachment removed, seq kept): the sender or an agent; broadcasts message.deleted',
    auth: true,
    response: s.messageSchema,
    status: 200,
  },
  'GET /v1/chats/{chatId}/messages/{messageId}/replies': {
    summary:
      'A message’s thread: the replies to it (its replyTo), ascending seq; after= a reply’s seq, nextCursor is a seq. Also for a deleted message',
    auth: true,
    query: s.listRepliesQuery,
    response: page(s.messageSchema),
    status: 200,
  },
  'PUT /v1/chats/{chatId}/messages/{messageId}/reactions/{emoji}': {
    summary:
      'React with one emoji (URL-encoded; one per user and emoji, adding again changes nothing; at most 20 distinct per message, 409 beyond); every socket and poller of the chat gets a `reaction` envelope',
    auth: true,
    response: s.reactionChangeSchema,
    status: 200,
  },
  'DELETE /v1/chats/{chatId}/messages/{messageId}/reactions/{emoji}': {
    summary: 'Take one’s reaction back (none: nothing changes); answers like PUT',
    auth: true,
    response: s.reactionChangeSchema,
    status: 200,
  },
  'POST /v1/chats/{chatId}/messages': {
    summary:
      'Send a message (201); the same clientMessageId again returns the original (200) and stores nothing',
    auth: true,
    body: s.sendMessageBody,
    response: s.messageSchema,
    status: 201,
  },
  'GET /v1/chats/{chatId}/messages': {
    summary: 'History in ascending seq: after= pages forward, before= pages backward; nextCursor is a seq',
    auth: true,
    query: s.listMessagesQuery,
    response: page(s.messageSchema),
    status: 200,
  },
  'GET /v1/chats/{chatId}/events': {
    summary:
      'Polling fallback: the envelopes a socket would have received after `after` (messages), `afterEvent` (event log) and `since` (typing, presence, reaction changes), long-polling up to waitSeconds',
    auth: true,
    query: s.pollEventsQuery,
    response: z.object({
      items: z.array(s.envelopeSchema),
      nextAfter: z.number().check(z.int()),
      nextAfterEvent: z.number().check(z.int()),
      hasMore: z.boolean(),
      /** Pass back as `since`: typing, presence and reaction envelopes not returned yet. */
      nextSince: z.string(),
      /** Poll again after this many ms (sooner while the chat is active); at once when hasMore. */
      nextPollMs: z.number().check(z.int()),
      /** The caller holds LONG_POLLS_PER_IDENTITY long polls already: answered without waiting. */
      longPollRefused: z.optional(z.boolean()),
    }),
    status: 200,
  },
  'POST /v1/chats/{chatId}/attachments': {
    summary:
      'Presigned POST for uploading one file straight to S3 (policy pins key, exact content type, size ≤ declared); pending until S3 confirms it',
    auth: true,
    body: s.createAttachmentBody,
    response: z.object({
      attachmentId: s.attachmentIdSchema,
      upload: z.object({ url: z.string(), fields: z.record(z.string(), z.string()) }),
      expiresAt: z.iso.datetime(),
    }),
    status: 201,
  },
  'GET /v1/attachments/{attachmentId}': {
    summary: 'A short-lived download URL (participants only); `attachment` unless an allow-listed image type',
    auth: true,
    response: z.extend(s.attachmentRefSchema, {
      chatId: s.chatIdSchema,
      url: z.string(),
      expiresAt: z.iso.datetime(),
    }),
    status: 200,
  },
  'POST /v1/chats/{chatId}/typing': {
    summary:
      'Typing indicator fallback (send only): pushed to the other users’ sockets as `typing`, never stored; at most one per user, chat and state per second (429)',
    auth: true,
    body: s.typingBody,
    response: z.object({ isTyping: z.boolean(), expiresInMs: z.number().check(z.int()) }),
    status: 202,
  },
  'POST /v1/blocks': {
    summary:
      'Block a user of the tenant (201; 200 when already blocked): their messages to chats you take part in are refused with 403',
    auth: true,
    body: s.blockBody,
    response: s.blockSchema,
    status: 201,
  },
  'GET /v1/blocks': {
    summary: 'The users the caller has blocked',
    auth: true,
    query: s.listBlocksQuery,
    response: page(s.blockSchema),
    status: 200,
  },
  'DELETE /v1/blocks/{userId}': {
    summary: 'Unblock a user (idempotent, 204)',
    auth: true,
    response: z.object({}),
    status: 204,
  },
  'POST /v1/dev/tokens': {
    summary: 'LOCAL CLOUD ONLY: mint a development token for any role (never deployed)',
    auth: false,
    body: s.devTokenBody,
    response: z.object({ token: z.string(), expiresAt: z.iso.datetime() }),
    status: 201,
  },
};

const schema = (type: z.ZodMiniType, io: 'input' | 'output') =>
  z.toJSONSchema(type, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;

const queryParameters = (query: z.ZodMiniType | undefined) => {
  if (!query) return [];
  const json = schema(query, 'input') as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
};

const errorBody = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
};

export const buildOpenApi = (routes: readonly HttpRoute[] = httpRoutes) => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const key = `${route.method} ${route.path}`;
    const operation = operations[key];
    if (!operation) throw new Error(`no OpenAPI description for ${key}`);
    const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({
      name: match[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    paths[route.path] ??= {};
    const pathItem = paths[route.path] as Record<string, unknown>;
    pathItem[route.method.toLowerCase()] = {
      summary: operation.summary,
      ...(route.localOnly ? { 'x-local-only': true } : {}),
      ...(operation.auth ? { security: [{ bearer: [] }] } : { security: [] }),
      parameters: [...pathParameters, ...queryParameters(operation.query)],
      ...(operation.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schema(operation.body, 'input') } },
            },
          }
        : {}),
      responses: {
        [String(operation.status)]: {
          description: 'success',
          content: { 'application/json': { schema: schema(operation.response, 'output') } },
        },
        '4XX': { description: 'client error', content: { 'application/json': { schema: errorBody } } },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'serverless-chat HTTP API',
      version: '1',
      description:
        'Generated from shared/domain/schemas.ts by `npm run docs:api`. WebSocket frames: docs/protocol.md.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: {
        ClientFrame: schema(s.clientFrame, 'input'),
        Envelope: schema(s.envelopeSchema, 'output'),
      },
    },
    paths,
  };
};
