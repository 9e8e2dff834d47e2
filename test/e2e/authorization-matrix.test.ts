/**
 * Tenant isolation and authorization matrix (issue 3, item 16): every HTTP route and every WebSocket action
 * of the route table (shared/config/routes.ts) × role (visitor, user, agent, service) × target, against
 * one explicit table of expected outcomes derived from docs/protocol.md and shared/domain/*.ts.
 *
 * Targets, seen from the caller (the same four user ids exist in both tenants):
 *  - own         a chat the caller created (visitor, user, agent: also a participant; a service creates
 *                chats without joining them, so for a service this is "a chat of my tenant I am not in");
 *  - member      a chat someone else created with the caller as a participant;
 *  - sameTenant  a chat of the caller's tenant it takes no part in (for agents and services: reachable, the
 *                contract's "agent/service of that chat's tenant");
 *  - otherTenant the caller's *twin* (same user id and role, other tenant) created it, is a participant and
 *                sent its messages: only the tenant differs, so anything but 404 is a tenant leak.
 *
 * Each mutating case gets fresh chats (so a 2xx is possible when allowed and cases never interfere);
 * read-only cases share one fixture per role and target. A denied mutating call must change nothing.
 */
import { afterAll, beforeAll, describe, expect, type ExpectStatic, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { httpRoutes, wsRoutes } from '../../shared/config/routes.ts';
import { api, type Envelope, TestSocket } from '../support/clients.ts';
import { png } from '../support/png.ts';
import { mapLimit } from '../../shared/domain/realtime.ts';

// ---- who and what ------------------------------------------------------------------------------------

const ROLES = ['visitor', 'user', 'agent', 'service'] as const;
type Role = (typeof ROLES)[number];
const TARGETS = ['own', 'member', 'sameTenant', 'otherTenant'] as const;
type Target = (typeof TARGETS)[number];
const TARGET_LABEL: Record<Target, string> = {
  own: 'own chat',
  member: 'chat it was added to',
  sameTenant: 'other chat of its tenant',
  otherTenant: "other tenant's chat",
};

const TENANT = 'demo';
const OTHER_TENANT = 'matrix-other';
/** The callers; each has a twin with the same id and role in OTHER_TENANT. */
const CALLER: Record<Role, string> = {
  visitor: 'v_matrix',
  user: 'u-matrix',
  agent: 'a-matrix',
  service: 's-matrix',
};
/** A user of each tenant who creates the member/sameTenant chats and takes part in every fixture chat. */
const PEER = 'peer-a';
/** The second participant of sameTenant chats. */
const SECOND = 'peer-b';
/** Fixture helpers of each tenant: a service adds participants and uploads, an agent reads state. */
const FX_SERVICE = 'fx-service';
const FX_AGENT = 'fx-agent';
const ROLE_OF: Record<string, Role> = {
  ...Object.fromEntries(ROLES.map((role) => [CALLER[role], role])),
  [PEER]: 'user',
  [SECOND]: 'user',
  [FX_SERVICE]: 'service',
  [FX_AGENT]: 'agent',
};
const isStaff = (role: Role) => role === 'agent' || role === 'service';

// ---- the expectation table ---------------------------------------------------------------------------

type PerTarget<T> = Record<Target, T>;
const t = <T>(own: T, member: T, sameTenant: T, otherTenant: T): PerTarget<T> => ({
  own,
  member,
  sameTenant,
  otherTenant,
});

/**
 * Chat-targeting HTTP routes: expected status per role and target, in the order
 * t(own, member, sameTenant, otherTenant). A key is `METHOD path` of the route table, optionally with a
 * `[variant]` when one route has rules that depend on the request (which field, whose message).
 */
const httpChatExpected: Record<string, Record<Role, PerTarget<number>>> = {
  'GET /v1/chats/{chatId}': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  // Subject and metadata: agents, services or the chat's creator.
  'PATCH /v1/chats/{chatId} [subject]': {
    visitor: t(200, 403, 403, 404),
    user: t(200, 403, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  // Status (close with rating): any participant, agents, services.
  'PATCH /v1/chats/{chatId} [close]': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  // Agents and services only: the role is refused before the chat is even looked up.
  'GET /v1/chats/{chatId}/audit': {
    visitor: t(403, 403, 403, 403),
    user: t(403, 403, 403, 403),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  // Agents, services, the chat's creator.
  'POST /v1/chats/{chatId}/participants': {
    visitor: t(403, 403, 403, 404), // visitors never add participants, not even to their own chat
    user: t(200, 403, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  'POST /v1/chats/{chatId}/assign': {
    visitor: t(403, 403, 403, 403),
    user: t(403, 403, 403, 403),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  // Read receipts belong to participants (a service never joins the chats it creates).
  'POST /v1/chats/{chatId}/read': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 403, 404),
    service: t(403, 200, 403, 404),
  },
  'POST /v1/chats/{chatId}/system-events': {
    visitor: t(403, 403, 403, 403),
    user: t(403, 403, 403, 403),
    agent: t(403, 403, 403, 403),
    service: t(201, 201, 201, 404),
  },
  // Removing someone else (the peer): agents, services, the chat's creator.
  'DELETE /v1/chats/{chatId}/participants/{userId} [remove peer]': {
    visitor: t(200, 403, 403, 404),
    user: t(200, 403, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  // Leaving (userId = the caller): any participant; staff who are not participants get 404 participant.
  'DELETE /v1/chats/{chatId}/participants/{userId} [leave]': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 404, 404),
    service: t(404, 200, 404, 404),
  },
  // The caller's own setting: participants only.
  'PATCH /v1/chats/{chatId}/preferences': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 403, 404),
    service: t(403, 200, 403, 404),
  },
  // The caller's own message (where it may not write, the peer's): the sender only.
  'PATCH /v1/chats/{chatId}/messages/{messageId} [own message]': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  'PATCH /v1/chats/{chatId}/messages/{messageId} [peer’s message]': {
    visitor: t(403, 403, 403, 404),
    user: t(403, 403, 403, 404),
    agent: t(403, 403, 403, 404),
    service: t(403, 403, 403, 404),
  },
  // The sender, or an agent or service of the tenant.
  'DELETE /v1/chats/{chatId}/messages/{messageId} [own message]': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  'DELETE /v1/chats/{chatId}/messages/{messageId} [peer’s message]': {
    visitor: t(403, 403, 403, 404),
    user: t(403, 403, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  'POST /v1/chats/{chatId}/messages': {
    visitor: t(201, 201, 403, 404),
    user: t(201, 201, 403, 404),
    agent: t(201, 201, 201, 404),
    service: t(201, 201, 201, 404),
  },
  'GET /v1/chats/{chatId}/messages': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  'GET /v1/chats/{chatId}/events': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  // Threads and reactions: whoever may read the chat (the peer's message).
  'GET /v1/chats/{chatId}/messages/{messageId}/replies': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  'PUT /v1/chats/{chatId}/messages/{messageId}/reactions/{emoji}': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  'DELETE /v1/chats/{chatId}/messages/{messageId}/reactions/{emoji}': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  'POST /v1/chats/{chatId}/attachments': {
    visitor: t(201, 201, 403, 404),
    user: t(201, 201, 403, 404),
    agent: t(201, 201, 201, 404),
    service: t(201, 201, 201, 404),
  },
  // A ready attachment of the target chat: whoever may read that chat.
  'GET /v1/attachments/{attachmentId}': {
    visitor: t(200, 200, 403, 404),
    user: t(200, 200, 403, 404),
    agent: t(200, 200, 200, 404),
    service: t(200, 200, 200, 404),
  },
  // The same callers as for sending a message.
  'POST /v1/chats/{chatId}/typing': {
    visitor: t(202, 202, 403, 404),
    user: t(202, 202, 403, 404),
    agent: t(202, 202, 202, 404),
    service: t(202, 202, 202, 404),
  },
};

/** Routes that act on the caller itself (no chat in the path): expected status per role. */
const httpCallerExpected: Record<string, Record<Role, number>> = {
  'POST /v1/realtime/tickets': { visitor: 201, user: 201, agent: 201, service: 201 },
  'POST /v1/chats': { visitor: 201, user: 201, agent: 201, service: 201 },
  'POST /v1/chats [with participants]': { visitor: 403, user: 201, agent: 201, service: 201 },
  'GET /v1/chats': { visitor: 200, user: 200, agent: 200, service: 200 },
  'GET /v1/unread': { visitor: 200, user: 200, agent: 200, service: 200 },
  'GET /v1/stats': { visitor: 403, user: 403, agent: 200, service: 200 },
  'GET /v1/presence': { visitor: 403, user: 403, agent: 200, service: 200 },
  // Live chat lists are tenant-wide: agents and services only (like watchChats).
  'GET /v1/chats/changes': { visitor: 403, user: 403, agent: 200, service: 200 },
  // Services act for no one and cannot block.
  'POST /v1/blocks': { visitor: 201, user: 201, agent: 201, service: 403 },
  'GET /v1/blocks': { visitor: 200, user: 200, agent: 200, service: 403 },
  'DELETE /v1/blocks/{userId}': { visitor: 204, user: 204, agent: 204, service: 403 },
};

/**
 * Public routes (no token): expected status per request. `known`: for tenant `demo` (a refresh: with a
 * refresh token of a demo visitor); `refused`: an unknown tenant, or as a refresh token a visitor's
 * access token.
 */
const httpPublicExpected: Record<string, { known: number; refused: number }> = {
  'POST /v1/visitors': { known: 201, refused: 404 },
  'POST /v1/visitors/refresh': { known: 200, refused: 401 },
  'GET /v1/tenants/{tenantId}/widget': { known: 200, refused: 404 },
};

/** Chat-targeting WebSocket actions: the reply's `type`, or the `error` envelope's `data.code`. */
const wsChatExpected: Record<string, Record<Role, PerTarget<string>>> = {
  sendMessage: {
    visitor: t('ack', 'ack', 'forbidden', 'not_found'),
    user: t('ack', 'ack', 'forbidden', 'not_found'),
    agent: t('ack', 'ack', 'ack', 'not_found'),
    service: t('ack', 'ack', 'ack', 'not_found'),
  },
  subscribe: {
    visitor: t('ack', 'ack', 'forbidden', 'not_found'),
    user: t('ack', 'ack', 'forbidden', 'not_found'),
    agent: t('ack', 'ack', 'ack', 'not_found'),
    service: t('ack', 'ack', 'ack', 'not_found'),
  },
  markRead: {
    visitor: t('ack', 'ack', 'forbidden', 'not_found'),
    user: t('ack', 'ack', 'forbidden', 'not_found'),
    agent: t('ack', 'ack', 'forbidden', 'not_found'),
    service: t('forbidden', 'ack', 'forbidden', 'not_found'),
  },
  // Removes only this connection's own subscription and reveals nothing (not even whether the chat
  // exists): always acknowledged, for any chat id.
  unsubscribe: {
    visitor: t('ack', 'ack', 'ack', 'ack'),
    user: t('ack', 'ack', 'ack', 'ack'),
    agent: t('ack', 'ack', 'ack', 'ack'),
    service: t('ack', 'ack', 'ack', 'ack'),
  },
  typing: {
    visitor: t('ack', 'ack', 'forbidden', 'not_found'),
    user: t('ack', 'ack', 'forbidden', 'not_found'),
    agent: t('ack', 'ack', 'ack', 'not_found'),
    service: t('ack', 'ack', 'ack', 'not_found'),
  },
  react: {
    visitor: t('ack', 'ack', 'forbidden', 'not_found'),
    user: t('ack', 'ack', 'forbidden', 'not_found'),
    agent: t('ack', 'ack', 'ack', 'not_found'),
    service: t('ack', 'ack', 'ack', 'not_found'),
  },
};

/**
 * WebSocket routes that target no chat: what every role gets (the reply's type or error code; for
 * `$connect` whether the upgrade with a ticket of that role is accepted, for `$disconnect` the close).
 */
const wsOtherExpected: Record<string, Record<Role, string>> = {
  $connect: { visitor: 'open', user: 'open', agent: 'open', service: 'open' },
  $disconnect: { visitor: 'closed', user: 'closed', agent: 'closed', service: 'closed' },
  // A frame whose action has no route.
  $default: {
    visitor: 'invalid_request',
    user: 'invalid_request',
    agent: 'invalid_request',
    service: 'invalid_request',
  },
  ping: { visitor: 'pong', user: 'pong', agent: 'pong', service: 'pong' },
  // Live chat lists are for agents and services.
  watchChats: { visitor: 'forbidden', user: 'forbidden', agent: 'ack', service: 'ack' },
  // Stops only this connection's own watch (idempotent): acknowledged for everyone.
  unwatchChats: { visitor: 'ack', user: 'ack', agent: 'ack', service: 'ack' },
};

// ---- the requests (same keys as the tables) ----------------------------------------------------------

interface Fixture {
  readonly tenantId: string;
  readonly chatId: string;
  /** A message of the caller (of its twin in the other tenant; the peer's where the caller may not write). */
  readonly mine: string;
  /** A message of the peer. */
  readonly peers: string;
  /** A ready attachment of the chat (shared read-only fixtures only). */
  readonly attachmentId?: string;
}
interface HttpRequest {
  readonly path: string;
  readonly body?: unknown;
}

let unique = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${(unique++).toString(36)}`;

const httpChatRequests: Record<string, (fx: Fixture, callerId: string) => HttpRequest> = {
  'GET /v1/chats/{chatId}': (fx) => ({ path: `/v1/chats/${fx.chatId}` }),
  'PATCH /v1/chats/{chatId} [subject]': (fx) => ({
    path: `/v1/chats/${fx.chatId}`,
    body: { subject: 'renamed by the matrix' },
  }),
  'PATCH /v1/chats/{chatId} [close]': (fx) => ({
    path: `/v1/chats/${fx.chatId}`,
    body: { status: 'closed', rating: 5, feedback: 'fine' },
  }),
  'GET /v1/chats/{chatId}/audit': (fx) => ({ path: `/v1/chats/${fx.chatId}/audit` }),
  'POST /v1/chats/{chatId}/participants': (fx) => ({
    path: `/v1/chats/${fx.chatId}/participants`,
    body: { userId: fresh('newcomer') },
  }),
  'POST /v1/chats/{chatId}/assign': (fx) => ({
    path: `/v1/chats/${fx.chatId}/assign`,
    body: { agentId: 'agent-z' },
  }),
  'POST /v1/chats/{chatId}/read': (fx) => ({ path: `/v1/chats/${fx.chatId}/read`, body: { seq: 1 } }),
  'POST /v1/chats/{chatId}/system-events': (fx) => ({
    path: `/v1/chats/${fx.chatId}/system-events`,
    body: { kind: 'job.updated', text: 'job updated', clientMessageId: fresh('sys') },
  }),
  'DELETE /v1/chats/{chatId}/participants/{userId} [remove peer]': (fx) => ({
    path: `/v1/chats/${fx.chatId}/participants/${PEER}`,
  }),
  'DELETE /v1/chats/{chatId}/participants/{userId} [leave]': (fx, callerId) => ({
    path: `/v1/chats/${fx.chatId}/participants/${callerId}`,
  }),
  'PATCH /v1/chats/{chatId}/preferences': (fx) => ({
    path: `/v1/chats/${fx.chatId}/preferences`,
    body: { muted: true },
  }),
  'PATCH /v1/chats/{chatId}/messages/{messageId} [own message]': (fx) => ({
    path: `/v1/chats/${fx.chatId}/messages/${fx.mine}`,
    body: { text: 'edited by the matrix' },
  }),
  'PATCH /v1/chats/{chatId}/messages/{messageId} [peer’s message]': (fx) => ({
    path: `/v1/chats/${fx.chatId}/messages/${fx.peers}`,
    body: { text: 'edited by the matrix' },
  }),
  'DELETE /v1/chats/{chatId}/messages/{messageId} [own message]': (fx) => ({
    path: `/v1/chats/${fx.chatId}/messages/${fx.mine}`,
  }),
  'DELETE /v1/chats/{chatId}/messages/{messageId} [peer’s message]': (fx) => ({
    path: `/v1/chats/${fx.chatId}/messages/${fx.peers}`,
  }),
  'POST /v1/chats/{chatId}/messages': (fx) => ({
    path: `/v1/chats/${fx.chatId}/messages`,
    body: { clientMessageId: fresh('m'), type: 'text', text: 'from the matrix' },
  }),
  'GET /v1/chats/{chatId}/messages': (fx) => ({ path: `/v1/chats/${fx.chatId}/messages?after=0` }),
  'GET /v1/chats/{chatId}/events': (fx) => ({
    path: `/v1/chats/${fx.chatId}/events?after=0&waitSeconds=0`,
  }),
  'GET /v1/chats/{chatId}/messages/{messageId}/replies': (fx) => ({
    path: `/v1/chats/${fx.chatId}/messages/${fx.peers}/replies`,
  }),
  'PUT /v1/chats/{chatId}/messages/{messageId}/reactions/{emoji}': (fx) => ({
    path: `/v1/chats/${fx.chatId}/messages/${fx.peers}/reactions/${encodeURIComponent('👍')}`,
  }),
  'DELETE /v1/chats/{chatId}/messages/{messageId}/reactions/{emoji}': (fx) => ({
    path: `/v1/chats/${fx.chatId}/messages/${fx.peers}/reactions/${encodeURIComponent('👍')}`,
  }),
  'POST /v1/chats/{chatId}/attachments': (fx) => ({
    path: `/v1/chats/${fx.chatId}/attachments`,
    body: { fileName: 'matrix.png', contentType: 'image/png', size: 100 },
  }),
  'GET /v1/attachments/{attachmentId}': (fx) => ({ path: `/v1/attachments/${fx.attachmentId ?? ''}` }),
  'POST /v1/chats/{chatId}/typing': (fx) => ({
    path: `/v1/chats/${fx.chatId}/typing`,
    body: { isTyping: true },
  }),
};

const httpCallerRequests: Record<string, (role: Role) => HttpRequest> = {
  'POST /v1/realtime/tickets': () => ({ path: '/v1/realtime/tickets' }),
  // A service never joins the chats it creates, so it names at least one participant (400 otherwise).
  'POST /v1/chats': (role) => ({
    path: '/v1/chats',
    body: { subject: 'matrix', ...(role === 'service' ? { participants: [PEER] } : {}) },
  }),
  'POST /v1/chats [with participants]': () => ({ path: '/v1/chats', body: { participants: [PEER] } }),
  'GET /v1/chats': () => ({ path: '/v1/chats' }),
  'GET /v1/unread': () => ({ path: '/v1/unread' }),
  'GET /v1/stats': () => ({ path: '/v1/stats' }),
  'GET /v1/presence': () => ({ path: `/v1/presence?userIds=${PEER}` }),
  'GET /v1/chats/changes': () => ({ path: '/v1/chats/changes?status=open' }),
  'POST /v1/blocks': () => ({ path: '/v1/blocks', body: { userId: fresh('nobody') } }),
  'GET /v1/blocks': () => ({ path: '/v1/blocks' }),
  'DELETE /v1/blocks/{userId}': () => ({ path: `/v1/blocks/${fresh('nobody')}` }),
};

const wsChatFrames: Record<string, (fx: Fixture) => Record<string, unknown>> = {
  sendMessage: (fx) => ({
    action: 'sendMessage',
    chatId: fx.chatId,
    clientMessageId: fresh('ws'),
    text: 'hi',
  }),
  subscribe: (fx) => ({ action: 'subscribe', chatId: fx.chatId }),
  markRead: (fx) => ({ action: 'markRead', chatId: fx.chatId, seq: 1 }),
  unsubscribe: (fx) => ({ action: 'unsubscribe', chatId: fx.chatId }),
  typing: (fx) => ({ action: 'typing', chatId: fx.chatId, isTyping: true }),
  react: (fx) => ({ action: 'react', chatId: fx.chatId, messageId: fx.peers, emoji: '👍' }),
};
/** Frames of the routes without a chat, in the order they run (the watch stays on for the leak check). */
const wsOtherFrames: Record<string, Record<string, unknown>> = {
  ping: { action: 'ping' },
  $default: { action: 'deleteChat' },
  unwatchChats: { action: 'unwatchChats' },
  watchChats: { action: 'watchChats', filter: { status: 'open' } },
};
/** WebSocket actions that change nothing a later case could trip over may share fixtures. */
const WS_READ_ONLY = new Set(['subscribe', 'unsubscribe']);

// ---- keys --------------------------------------------------------------------------------------------

/** `PATCH /v1/chats/{chatId} [subject]` → `PATCH /v1/chats/{chatId}`. */
const routeOf = (key: string) => key.replace(/ \[.*\]$/, '');
const methodOf = (key: string) => key.split(' ')[0] ?? '';
const deployedRouteKeys = httpRoutes
  .filter((route) => !route.localOnly)
  .map((route) => `${route.method} ${route.path}`);
const tableKeys = [
  ...Object.keys(httpChatExpected),
  ...Object.keys(httpCallerExpected),
  ...Object.keys(httpPublicExpected),
];

// ---- the local cloud and fixtures --------------------------------------------------------------------

let cloud: LocalCloud;
let client: ReturnType<typeof api>;
const tokens = new Map<string, string>();
const sockets = new Map<Role, TestSocket>();
const shared = new Map<string, Fixture>();
/** Every chat created in the other tenant: none of them may ever reach a socket of TENANT. */
const foreignChats = new Set<string>();

const tokenOf = (tenantId: string, userId: string): string => {
  const token = tokens.get(`${tenantId}/${userId}`);
  if (!token) throw new Error(`no token for ${tenantId}/${userId}`);
  return token;
};

const must = async (
  method: string,
  path: string,
  token: string,
  body: unknown,
  status: number,
): Promise<Record<string, unknown>> => {
  const response = await client.call(method, path, token, body);
  if (response.status !== status)
    throw new Error(`fixture ${method} ${path}: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
};

const sendAs = async (tenantId: string, userId: string, chatId: string): Promise<string> => {
  const body = { clientMessageId: fresh('fx'), type: 'text', text: `from ${userId}` };
  const message = await must('POST', `/v1/chats/${chatId}/messages`, tokenOf(tenantId, userId), body, 201);
  return message.messageId as string;
};

/** Builds the target chat for a caller: see the file comment for what each target means. */
const buildFixture = async (role: Role, target: Target): Promise<Fixture> => {
  const tenantId = target === 'otherTenant' ? OTHER_TENANT : TENANT;
  const callerId = CALLER[role];
  const [creator, participants] =
    target === 'member'
      ? [PEER, [callerId]]
      : target === 'sameTenant'
        ? [PEER, [SECOND]]
        : [callerId, role === 'visitor' ? [] : [PEER]];
  const chat = await must(
    'POST',
    '/v1/chats',
    tokenOf(tenantId, creator),
    { subject: `${role} ${target}`, participants },
    201,
  );
  const chatId = chat.chatId as string;
  if (tenantId !== TENANT) foreignChats.add(chatId);
  if (participants.length === 0) {
    // Visitors cannot name participants; the tenant's service adds the peer.
    await must(
      'POST',
      `/v1/chats/${chatId}/participants`,
      tokenOf(tenantId, FX_SERVICE),
      { userId: PEER },
      200,
    );
  }
  const mineSender = target === 'sameTenant' && !isStaff(role) ? PEER : callerId;
  const mine = await sendAs(tenantId, mineSender, chatId);
  const peers = await sendAs(tenantId, PEER, chatId);
  return { tenantId, chatId, mine, peers };
};

/** Requests an upload as the tenant's service and posts a real PNG to the presigned form. */
const uploadAttachment = async (fx: Fixture): Promise<string> => {
  const bytes = png(2, 2);
  const requested = await must(
    'POST',
    `/v1/chats/${fx.chatId}/attachments`,
    tokenOf(fx.tenantId, FX_SERVICE),
    { fileName: 'fixture.png', contentType: 'image/png', size: bytes.length },
    201,
  );
  const upload = requested.upload as { url: string; fields: Record<string, string> };
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([new Uint8Array(bytes)], { type: 'image/png' }), 'fixture.png');
  const response = await fetch(upload.url, { method: 'POST', body: form });
  if (response.status >= 300) throw new Error(`fixture upload: ${response.status}`);
  return requested.attachmentId as string;
};

/** What a denied call must not change, read by an agent of the chat's tenant. */
const snapshot = async (fx: Fixture) => {
  const reader = tokenOf(fx.tenantId, FX_AGENT);
  const [chat, messages, audit] = await Promise.all([
    must('GET', `/v1/chats/${fx.chatId}`, reader, undefined, 200),
    must('GET', `/v1/chats/${fx.chatId}/messages?after=0&limit=100`, reader, undefined, 200),
    must('GET', `/v1/chats/${fx.chatId}/audit?limit=100`, reader, undefined, 200),
  ]);
  const participants = (chat.participants as { userId: string }[]).map((p) => p.userId).sort();
  return {
    subject: chat.subject,
    metadata: chat.metadata,
    status: chat.status,
    rating: chat.rating,
    assignee: chat.assignee,
    lastSeq: chat.lastSeq as number,
    lastEventSeq: chat.lastEventSeq,
    participants,
    messages: (messages.items as Record<string, unknown>[]).map((m) => ({
      messageId: m.messageId,
      text: m.text,
      editedAt: m.editedAt,
      deletedAt: m.deletedAt,
    })),
    audit: (audit.items as unknown[]).length,
  };
};

/**
 * $connect with a ticket of the role. `connection.ready` is not awaited: it comes from the stream and may
 * arrive after the reply to the first frame (docs/protocol.md).
 */
const openSocket = async (role: Role): Promise<TestSocket> => {
  const { ticket, url } = await client.ticket(tokenOf(TENANT, CALLER[role]));
  return TestSocket.open(`${url}?ticket=${encodeURIComponent(ticket)}`);
};

/** The reply's type, or for an `error` envelope its code. */
const outcomeOf = (reply: Envelope) =>
  reply.type === 'error' ? String((reply.data as { code?: unknown }).code) : reply.type;

/** One named test per case (`it.for` would quote and shorten the generated names). */
const eachCase = <C extends { readonly name: string }>(
  cases: readonly C[],
  run: (testCase: C, expect: ExpectStatic) => Promise<void>,
  { concurrent = true } = {},
) => {
  for (const testCase of cases)
    (concurrent ? it.concurrent : it)(testCase.name, ({ expect }) => run(testCase, expect));
};

beforeAll(async () => {
  // The fixtures send as PEER for every case, well over 100 messages in 10 s on a fast machine: the
  // per-identity message quota (tested in quotas.test.ts) would answer them 429 here.
  cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, env: { QUOTA_MESSAGES: 'off' } });
  client = api(cloud.urls.http);
  const users = Object.keys(ROLE_OF);
  await mapLimit(
    [TENANT, OTHER_TENANT].flatMap((tenantId) => users.map((userId) => ({ tenantId, userId }))),
    8,
    async ({ tenantId, userId }) => {
      const token = await client.token(tenantId, userId, ROLE_OF[userId] ?? 'user');
      if (!token) throw new Error(`no dev token for ${tenantId}/${userId}`);
      tokens.set(`${tenantId}/${userId}`, token);
    },
  );
  // One shared fixture per role and target for read-only cases, each with a ready attachment.
  const pairs = ROLES.flatMap((role) => TARGETS.map((target) => ({ role, target })));
  await mapLimit(pairs, 8, async ({ role, target }) => {
    const fx = await buildFixture(role, target);
    shared.set(`${role}/${target}`, { ...fx, attachmentId: await uploadAttachment(fx) });
  });
  await cloud.idle(); // the bucket notifications have confirmed every upload
  for (const role of ROLES) sockets.set(role, await openSocket(role));
}, 120_000);

afterAll(async () => {
  await Promise.all([...sockets.values()].map((socket) => socket.close()));
  await cloud?.stop();
});

const sharedFixture = (role: Role, target: Target): Fixture => {
  const fx = shared.get(`${role}/${target}`);
  if (!fx) throw new Error(`no shared fixture ${role}/${target}`);
  return fx;
};

// ---- the matrix is complete --------------------------------------------------------------------------

describe('the expectation table covers the route table', () => {
  it('has an entry for every deployed HTTP route, and none for routes that do not exist', () => {
    const covered = new Set(tableKeys.map(routeOf));
    expect(deployedRouteKeys.filter((key) => !covered.has(key))).toEqual([]);
    expect([...covered].filter((key) => !deployedRouteKeys.includes(key))).toEqual([]);
  });

  it('has a request for every HTTP expectation and an expectation for every request', () => {
    expect(Object.keys(httpChatRequests).sort()).toEqual(Object.keys(httpChatExpected).sort());
    expect(Object.keys(httpCallerRequests).sort()).toEqual(Object.keys(httpCallerExpected).sort());
  });

  it('has an entry for every WebSocket route, and a frame for every chat-targeting action', () => {
    const covered = [...Object.keys(wsChatExpected), ...Object.keys(wsOtherExpected)].sort();
    expect(covered).toEqual(wsRoutes.map((route) => route.routeKey).sort());
    expect(Object.keys(wsChatFrames).sort()).toEqual(Object.keys(wsChatExpected).sort());
    expect(['$connect', '$disconnect', ...Object.keys(wsOtherFrames)].sort()).toEqual(
      Object.keys(wsOtherExpected).sort(),
    );
  });
});

describe('the "changed nothing" check', () => {
  it('sees each change a denied call must not make (message, subject, delete, participant)', async () => {
    const fx = await buildFixture('user', 'own');
    const agent = tokenOf(TENANT, FX_AGENT);
    const before = await snapshot(fx);

    await must(
      'POST',
      `/v1/chats/${fx.chatId}/messages`,
      agent,
      { clientMessageId: fresh('x'), type: 'text', text: 'x' },
      201,
    );
    await must('PATCH', `/v1/chats/${fx.chatId}`, agent, { subject: 'changed' }, 200);
    await must('DELETE', `/v1/chats/${fx.chatId}/messages/${fx.peers}`, agent, undefined, 200);
    await must('POST', `/v1/chats/${fx.chatId}/participants`, agent, { userId: 'someone-new' }, 200);
    const after = await snapshot(fx);

    expect(after.lastSeq).toBe(before.lastSeq + 1);
    expect(after.subject).toBe('changed');
    expect(after.messages.find((m) => m.messageId === fx.peers)?.deletedAt).toBeDefined();
    expect(after.participants).toContain('someone-new');
    expect(after.audit).toBeGreaterThan(before.audit);
  });
});

// ---- HTTP: chat-targeting routes ---------------------------------------------------------------------

interface HttpCase {
  readonly key: string;
  readonly role: Role;
  readonly target: Target;
  readonly expected: number;
}
const httpCases: HttpCase[] = deployedRouteKeys.flatMap((route) =>
  Object.keys(httpChatExpected)
    .filter((key) => routeOf(key) === route)
    .flatMap((key) =>
      ROLES.flatMap((role) =>
        TARGETS.map((target) => ({
          key,
          role,
          target,
          expected: httpChatExpected[key]?.[role][target] ?? 0,
        })),
      ),
    ),
);

describe('HTTP routes × role × target', () => {
  eachCase(
    httpCases.map((c) => ({
      ...c,
      name: `${c.role} → ${c.key} on ${TARGET_LABEL[c.target]} → ${c.expected}`,
    })),
    async ({ key, role, target, expected }, expect) => {
      // Prepare
      const method = methodOf(key);
      const mutating = method !== 'GET';
      const fx = mutating ? await buildFixture(role, target) : sharedFixture(role, target);
      const build = httpChatRequests[key];
      if (!build) throw new Error(`no request for ${key}`);
      const request = build(fx, CALLER[role]);
      const before = mutating && expected >= 400 ? await snapshot(fx) : undefined;

      // Act
      const response = await client.call(method, request.path, tokenOf(TENANT, CALLER[role]), request.body);

      // Assert
      expect(response.status, JSON.stringify(response.body)).toBe(expected);
      if (expected === 403) expect(response.body.error).toMatchObject({ code: 'forbidden' });
      if (expected === 404) expect(response.body.error).toMatchObject({ code: 'not_found' });
      if (before) expect(await snapshot(fx), 'a denied call changed the chat').toEqual(before);
    },
  );
});

// ---- HTTP: routes on the caller itself, and public ones ----------------------------------------------

const callerCases = Object.entries(httpCallerExpected).flatMap(([key, byRole]) =>
  ROLES.map((role) => ({ key, role, expected: byRole[role], name: `${role} → ${key} → ${byRole[role]}` })),
);

describe('HTTP routes on the caller itself × role', () => {
  eachCase(callerCases, async ({ key, role, expected }, expect) => {
    const build = httpCallerRequests[key];
    if (!build) throw new Error(`no request for ${key}`);
    const request = build(role);

    const response = await client.call(
      methodOf(key),
      request.path,
      tokenOf(TENANT, CALLER[role]),
      request.body,
    );

    expect(response.status, JSON.stringify(response.body)).toBe(expected);
  });

  it('POST /v1/visitors is public: a known tenant gets a visitor token, an unknown one 404', async () => {
    const expected = httpPublicExpected['POST /v1/visitors'];
    const [known, unknown] = await Promise.all([
      client.call('POST', '/v1/visitors', undefined, { tenantId: TENANT }),
      client.call('POST', '/v1/visitors', undefined, { tenantId: 'no-such-tenant' }),
    ]);

    expect(known.status).toBe(expected?.known);
    expect(unknown.status).toBe(expected?.refused);
  });

  it('POST /v1/visitors/refresh is public: a refresh token renews the same visitor, an access token 401', async () => {
    const expected = httpPublicExpected['POST /v1/visitors/refresh'];
    const visitor = await must('POST', '/v1/visitors', '', { tenantId: TENANT }, 201);
    const [renewed, withAccessToken] = await Promise.all([
      client.call('POST', '/v1/visitors/refresh', undefined, { refreshToken: visitor.refreshToken }),
      client.call('POST', '/v1/visitors/refresh', undefined, { refreshToken: visitor.token }),
    ]);

    expect(renewed.status).toBe(expected?.known);
    expect(renewed.body.visitorId).toBe(visitor.visitorId);
    expect(withAccessToken.status).toBe(expected?.refused);
  });

  it('GET /v1/tenants/{tenantId}/widget is public: a known tenant’s settings, an unknown one 404', async () => {
    const expected = httpPublicExpected['GET /v1/tenants/{tenantId}/widget'];
    const [known, unknown] = await Promise.all([
      client.call('GET', `/v1/tenants/${TENANT}/widget`),
      client.call('GET', '/v1/tenants/no-such-tenant/widget'),
    ]);

    expect(known.status).toBe(expected?.known);
    expect(known.body.tenantId).toBe(TENANT);
    expect(unknown.status).toBe(expected?.refused);
  });

  it("a visitor's refresh token is no bearer token: 401 on every kind of route", async () => {
    const visitor = await must('POST', '/v1/visitors', '', { tenantId: TENANT }, 201);
    const refreshToken = visitor.refreshToken as string;
    const fx = sharedFixture('visitor', 'own');
    const responses = await Promise.all([
      client.call('GET', '/v1/chats', refreshToken),
      client.call('POST', '/v1/chats', refreshToken, {}),
      client.call('GET', `/v1/chats/${fx.chatId}`, refreshToken),
      client.call('POST', '/v1/realtime/tickets', refreshToken, {}),
      client.call('GET', '/v1/unread', refreshToken),
    ]);

    expect(responses.map((response) => response.status)).toEqual([401, 401, 401, 401, 401]);
  });

  eachCase(
    ROLES.map((role) => ({
      role,
      name: `${role} → GET /v1/chats?participant=<itself> lists its tenant’s chats only, never its twin’s`,
    })),
    async ({ role }, expect) => {
      const ids: string[] = [];
      const tenants = new Set<unknown>();
      let cursor: string | undefined;
      do {
        const query = `participant=${CALLER[role]}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await must('GET', `/v1/chats?${query}`, tokenOf(TENANT, CALLER[role]), undefined, 200);
        for (const item of page.items as { chatId: string; tenantId: string }[]) {
          ids.push(item.chatId);
          tenants.add(item.tenantId);
        }
        cursor = page.nextCursor as string | undefined;
      } while (cursor);

      expect([...tenants]).toEqual([TENANT]);
      expect(ids).toContain(sharedFixture(role, 'member').chatId);
      expect(ids).not.toContain(sharedFixture(role, 'otherTenant').chatId);
      expect(ids).not.toContain(sharedFixture(role, 'sameTenant').chatId);
    },
  );

  eachCase(
    ROLES.map((role) => ({
      role,
      staff: isStaff(role),
      name: `${role} → GET /v1/chats?participant=${SECOND} ${isStaff(role) ? 'includes' : 'excludes'} the other chats of its tenant`,
    })),
    async ({ role, staff }, expect) => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const query = `participant=${SECOND}&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await must('GET', `/v1/chats?${query}`, tokenOf(TENANT, CALLER[role]), undefined, 200);
        ids.push(...(page.items as { chatId: string }[]).map((item) => item.chatId));
        cursor = page.nextCursor as string | undefined;
      } while (cursor);

      const sameTenant = sharedFixture(role, 'sameTenant').chatId;
      if (staff) expect(ids).toContain(sameTenant);
      else expect(ids).toEqual([]);
    },
  );

  eachCase(
    ROLES.map((role) => ({ role, name: `${role} → GET /v1/unread counts its own chats only` })),
    async ({ role }, expect) => {
      const unread = await must('GET', '/v1/unread', tokenOf(TENANT, CALLER[role]), undefined, 200);
      const ids = (unread.chats as { chatId: string }[]).map((row) => row.chatId);

      expect(ids).not.toContain(sharedFixture(role, 'otherTenant').chatId);
      expect(ids).not.toContain(sharedFixture(role, 'sameTenant').chatId);
      // The peer wrote after the caller in the chat it was added to.
      expect(ids).toContain(sharedFixture(role, 'member').chatId);
    },
  );
});

// ---- WebSocket: routes without a chat (in order: the watch stays on for the leak check below) ---------

describe('WebSocket routes without a chat × role', () => {
  eachCase(
    ROLES.map((role) => ({
      role,
      expected: wsOtherExpected.$connect?.[role],
      name: `${role} → $connect with its ticket → ${wsOtherExpected.$connect?.[role] ?? ''}, $disconnect → ${wsOtherExpected.$disconnect?.[role] ?? ''}`,
    })),
    async ({ role, expected }, expect) => {
      const socket = await openSocket(role);
      const opened = socket.ws.readyState === socket.ws.OPEN ? 'open' : 'refused';
      await socket.close();

      expect(opened).toBe(expected);
      expect(socket.ws.readyState === socket.ws.CLOSED ? 'closed' : 'open').toBe(
        wsOtherExpected.$disconnect?.[role],
      );
    },
    { concurrent: false },
  );

  const cases = Object.entries(wsOtherFrames).flatMap(([action, frame]) =>
    ROLES.map((role) => ({
      action,
      frame,
      role,
      expected: wsOtherExpected[action]?.[role] ?? '',
      name: `${role} → ${action === '$default' ? `${String(frame.action)} (no route: $default)` : action} → ${wsOtherExpected[action]?.[role] ?? ''}`,
    })),
  );
  eachCase(
    cases,
    async ({ frame, role, expected }, expect) => {
      const socket = sockets.get(role);
      if (!socket) throw new Error(`no socket for ${role}`);

      const reply = await socket.request(frame);

      expect(outcomeOf(reply), JSON.stringify(reply)).toBe(expected);
    },
    { concurrent: false },
  );
});

// ---- WebSocket: chat-targeting actions ---------------------------------------------------------------

const wsCases = Object.entries(wsChatExpected).flatMap(([action, byRole]) =>
  ROLES.flatMap((role) =>
    TARGETS.map((target) => ({
      action,
      role,
      target,
      expected: byRole[role][target],
      name: `${role} → ${action} on ${TARGET_LABEL[target]} → ${byRole[role][target]}`,
    })),
  ),
);

describe('WebSocket actions × role × target', () => {
  eachCase(wsCases, async ({ action, role, target, expected }, expect) => {
    // Prepare
    const readOnly = WS_READ_ONLY.has(action);
    const fx = readOnly ? sharedFixture(role, target) : await buildFixture(role, target);
    const frame = wsChatFrames[action];
    const socket = sockets.get(role);
    if (!frame || !socket) throw new Error(`no frame or socket for ${role} ${action}`);
    const denied = expected !== 'ack';
    const before = denied && !readOnly ? await snapshot(fx) : undefined;

    // Act
    const reply = await socket.request(frame(fx));

    // Assert
    expect(outcomeOf(reply), JSON.stringify(reply)).toBe(expected);
    if (before) expect(await snapshot(fx), 'a denied frame changed the chat').toEqual(before);
  });
});

// ---- nothing crossed tenants ---------------------------------------------------------------------------

describe('tenant isolation over the sockets', () => {
  it('no socket of the tenant received an envelope of the other tenant (subscriptions, watches, typing)', async () => {
    await cloud.idle();
    const leaked = [...sockets.entries()].flatMap(([role, socket]) =>
      socket.received
        .filter(
          (envelope) =>
            (envelope as { tenantId?: string }).tenantId === OTHER_TENANT ||
            // Replies echo the chat id a frame named (unsubscribe acks any id); anything else must not.
            (envelope.requestId === undefined &&
              envelope.chatId !== undefined &&
              foreignChats.has(envelope.chatId)),
        )
        .map((envelope) => `${role}: ${envelope.type} ${envelope.chatId ?? ''}`),
    );

    expect(foreignChats.size).toBeGreaterThan(0);
    expect(leaked).toEqual([]);
  });
});
