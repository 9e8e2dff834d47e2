/**
 * The one route table. The CDK stack creates one Lambda per handler file and wires it to the APIs and
 * the table stream from these entries; the local cloud's gateways route to the very same handler files.
 * Adding a route is one entry here plus one handler file.
 */
import { ATTACHMENT_PREFIX } from './storage.ts';
import { ENTITY } from './table.ts';

/** What a function may touch; the CDK stack turns each into a least-privilege grant. */
export type Permission =
  | 'table:read'
  | 'table:write'
  | 'connections:post' // @connections POST/GET/DELETE on the WebSocket API
  | 'secret:visitor' // read the visitor-token signing secret
  | 'secret:auth' // read the host identity provider's shared secret (when configured)
  | 'attachments:upload' // sign presigned POSTs for pending/ uploads
  | 'attachments:read' // sign downloads of confirmed files/
  | 'attachments:manage'; // inspect, move and delete pending/ and files/ objects

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

interface RouteBase {
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly handler: string;
  readonly permissions: readonly Permission[];
  /** Lambda timeout; defaults to 10 s. */
  readonly timeoutSeconds?: number;
  readonly memoryMb?: number;
}

export interface HttpRoute extends RouteBase {
  readonly kind: 'http';
  readonly method: HttpMethod;
  /** API Gateway path with `{param}` segments. */
  readonly path: string;
  /** Only served by the local cloud; never deployed by CDK. */
  readonly localOnly?: boolean;
  /** A long poll: an invocation may wait up to `waitSeconds` for news, doing nothing meanwhile. */
  readonly longPoll?: boolean;
}

export interface WsRoute extends RouteBase {
  readonly kind: 'ws';
  /** `$connect`, `$disconnect`, `$default` or an `action` value (route selection `$request.body.action`). */
  readonly routeKey: string;
  /** The handler's return body is sent back to the caller (API Gateway route response). */
  readonly twoWay: boolean;
}

/** A Lambda event-source filter pattern over a DynamoDB stream record (the JSON shape of the record). */
export type FilterPattern = Record<string, unknown>;

export interface StreamConsumer extends RouteBase {
  readonly kind: 'stream';
  readonly name: string;
  readonly filters: readonly FilterPattern[];
  readonly batchSize: number;
  readonly maxBatchingWindowSeconds: number;
  readonly retryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly parallelizationFactor: number;
  /**
   * Lambda's tumbling window (`TumblingWindowInSeconds`, 1–900): the mapping hands the function a state
   * from one invocation to the next and invokes it once more at each window's end. Absent: none.
   */
  readonly tumblingWindowSeconds?: number;
}

const RW: readonly Permission[] = ['table:read', 'table:write'];
const http = (
  method: HttpMethod,
  path: string,
  handler: string,
  permissions: readonly Permission[],
  extra: Partial<HttpRoute> = {},
): HttpRoute => ({
  kind: 'http',
  method,
  path,
  handler: `functions/http/${handler}.ts`,
  permissions,
  ...extra,
});
const ws = (
  routeKey: string,
  handler: string,
  permissions: readonly Permission[],
  twoWay = true,
): WsRoute => ({
  kind: 'ws',
  routeKey,
  handler: `functions/ws/${handler}.ts`,
  permissions,
  twoWay,
});

export const httpRoutes: readonly HttpRoute[] = [
  http('POST', '/v1/visitors', 'create-visitor', [...RW, 'secret:visitor']),
  // Renews a visitor's token from its refresh token (table write: the rate limit).
  http('POST', '/v1/visitors/refresh', 'refresh-visitor', [...RW, 'secret:visitor']),
  http('GET', '/v1/tenants/{tenantId}/widget', 'get-widget-settings', ['table:read']),
  http('POST', '/v1/realtime/tickets', 'create-ticket', [...RW, 'secret:visitor', 'secret:auth']),
  http('POST', '/v1/chats', 'create-chat', [...RW, 'secret:visitor', 'secret:auth']),
  http('GET', '/v1/chats', 'list-chats', ['table:read', 'secret:visitor', 'secret:auth']),
  // Table write: the long-poll leases (shared/domain/quotas.ts).
  http('GET', '/v1/chats/changes', 'poll-chat-changes', [...RW, 'secret:visitor', 'secret:auth'], {
    timeoutSeconds: 29,
    longPoll: true,
  }),
  http('GET', '/v1/chats/{chatId}', 'get-chat', ['table:read', 'secret:visitor', 'secret:auth']),
  http('PATCH', '/v1/chats/{chatId}', 'update-chat', [...RW, 'secret:visitor', 'secret:auth']),
  http('GET', '/v1/chats/{chatId}/audit', 'list-audit', ['table:read', 'secret:visitor', 'secret:auth']),
  http('POST', '/v1/chats/{chatId}/participants', 'add-participant', [
    ...RW,
    'secret:visitor',
    'secret:auth',
  ]),
  http('POST', '/v1/chats/{chatId}/assign', 'assign-chat', [...RW, 'secret:visitor', 'secret:auth']),
  http('POST', '/v1/chats/{chatId}/read', 'mark-read', [...RW, 'secret:visitor', 'secret:auth']),
  http('GET', '/v1/unread', 'get-unread', ['table:read', 'secret:visitor', 'secret:auth']),
  http('GET', '/v1/stats', 'get-stats', ['table:read', 'secret:visitor', 'secret:auth']),
  http('GET', '/v1/presence', 'get-presence', ['table:read', 'secret:visitor', 'secret:auth']),
  http('POST', '/v1/chats/{chatId}/system-events', 'system-event', [...RW, 'secret:visitor', 'secret:auth']),
  http('DELETE', '/v1/chats/{chatId}/participants/{userId}', 'remove-participant', [
    ...RW,
    'secret:visitor',
    'secret:auth',
  ]),
  http('PATCH', '/v1/chats/{chatId}/preferences', 'update-preferences', [
    ...RW,
    'secret:visitor',
    'secret:auth',
  ]),
  http('PATCH', '/v1/chats/{chatId}/messages/{messageId}', 'edit-message', [
    ...RW,
    'secret:visitor',
    'secret:auth',
  ]),
  // Deleting a message deletes its attachment's file too.
  http('DELETE', '/v1/chats/{chatId}/messages/{messageId}', 'delete-message', [
    ...RW,
    'attachments:manage',
    'secret:visitor',
    'secret:auth',
  ]),
  http('GET', '/v1/chats/{chatId}/messages/{messageId}/replies', 'list-replies', [
    'table:read',
    'secret:visitor',
    'secret:auth',
  ]),
  http('PUT', '/v1/chats/{chatId}/messages/{messageId}/reactions/{emoji}', 'add-reaction', [
    ...RW,
    'secret:visitor',
    'secret:auth',
  ]),
  http('DELETE', '/v1/chats/{chatId}/messages/{messageId}/reactions/{emoji}', 'remove-reaction', [
    ...RW,
    'secret:visitor',
    'secret:auth',
  ]),
  http('POST', '/v1/chats/{chatId}/messages', 'send-message', [...RW, 'secret:visitor', 'secret:auth']),
  http('GET', '/v1/chats/{chatId}/messages', 'list-messages', [
    'table:read',
    'secret:visitor',
    'secret:auth',
  ]),
  http('GET', '/v1/chats/{chatId}/events', 'poll-events', [...RW, 'secret:visitor', 'secret:auth'], {
    timeoutSeconds: 29,
    longPoll: true,
  }),
  http('POST', '/v1/chats/{chatId}/attachments', 'create-attachment', [
    ...RW,
    'secret:visitor',
    'secret:auth',
    'attachments:upload',
  ]),
  http('GET', '/v1/attachments/{attachmentId}', 'get-attachment', [
    'table:read',
    'secret:visitor',
    'secret:auth',
    'attachments:read',
  ]),
  // Typing is pushed straight to sockets; table write for the chat's typing state (also its rate limit).
  http('POST', '/v1/chats/{chatId}/typing', 'typing', [
    ...RW,
    'connections:post',
    'secret:visitor',
    'secret:auth',
  ]),
  http('POST', '/v1/blocks', 'create-block', [...RW, 'secret:visitor', 'secret:auth']),
  http('GET', '/v1/blocks', 'list-blocks', ['table:read', 'secret:visitor', 'secret:auth']),
  http('DELETE', '/v1/blocks/{userId}', 'delete-block', [...RW, 'secret:visitor', 'secret:auth']),
  http('POST', '/v1/dev/tokens', 'dev-token', [], { localOnly: true }),
];

export const wsRoutes: readonly WsRoute[] = [
  // Both announce presence (first socket of a user opens, last one closes) to other sockets.
  ws('$connect', 'connect', [...RW, 'connections:post'], false),
  ws('$disconnect', 'disconnect', [...RW, 'connections:post'], false),
  ws('$default', 'default', ['table:read']),
  ws('sendMessage', 'send-message', RW),
  ws('subscribe', 'subscribe', RW),
  ws('markRead', 'mark-read', RW),
  ws('watchChats', 'watch-chats', RW),
  ws('unwatchChats', 'unwatch-chats', RW),
  ws('unsubscribe', 'unsubscribe', RW),
  ws('typing', 'typing', [...RW, 'connections:post']),
  ws('react', 'react', RW),
  ws('ping', 'ping', []),
];

const streamDefaults = {
  kind: 'stream',
  batchSize: 100,
  maxBatchingWindowSeconds: 0,
  retryAttempts: 5,
  maxRecordAgeSeconds: 3600,
  parallelizationFactor: 1,
} as const;

export const streamConsumers: readonly StreamConsumer[] = [
  {
    ...streamDefaults,
    name: 'fanout',
    handler: 'functions/stream/fanout.ts',
    permissions: ['table:read', 'table:write', 'connections:post'],
    // Only inserts of messages, chat events (the chat's event log) and chats' creation records, and
    // messages' reaction records, invoke the fan-out.
    filters: [
      {
        eventName: ['INSERT'],
        dynamodb: { NewImage: { entity: { S: [ENTITY.message, ENTITY.chatEvent, ENTITY.chatCreated] } } },
      },
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { entity: { S: [ENTITY.reactions] } } } },
      // Closing and reopening move the open-chats counter of GET /v1/stats (their audit records).
      {
        eventName: ['INSERT'],
        dynamodb: {
          NewImage: { entity: { S: [ENTITY.audit] }, action: { S: ['chat.close', 'chat.reopen'] } },
        },
      },
    ],
    timeoutSeconds: 60,
    // The messages counter and the fan-out's metrics are summed over a minute and written once
    // (fanout-counts.ts), not once per batch: at one batch per message or two, that write was a WRU per
    // message or two.
    tumblingWindowSeconds: 60,
  },
  {
    ...streamDefaults,
    // One consumer for the sockets' lifecycle, so the stream has two readers (this and the fan-out):
    // AWS advises at most two per shard (functions/stream/connections.ts).
    name: 'connections',
    handler: 'functions/stream/connections.ts',
    // table: the user's recent chats, their subscribers, the agents-online set, the connection
    // counters, gone connections.
    permissions: ['table:read', 'table:write', 'connections:post'],
    filters: [
      // API Gateway cannot post to a socket during $connect; a new connection item triggers `connection.ready`.
      { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: [ENTITY.connection] } } } },
      // A connection item gone ($disconnect, the 410 path, its TTL) counts down GET /v1/stats.
      { eventName: ['REMOVE'], dynamodb: { OldImage: { entity: { S: [ENTITY.connection] } } } },
      // $connect / $disconnect only write the presence item; its stream record announces a transition.
      { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { entity: { S: [ENTITY.presence] } } } },
    ],
    retryAttempts: 2,
    maxRecordAgeSeconds: 60,
  },
];

/** A function invoked by the attachments bucket's ObjectCreated notifications under `prefix`. */
export interface BucketConsumer extends RouteBase {
  readonly kind: 'bucket';
  readonly name: string;
  readonly prefix: string;
}

export const bucketConsumers: readonly BucketConsumer[] = [
  {
    kind: 'bucket',
    name: 'attachment-uploaded',
    handler: 'functions/s3/attachment-uploaded.ts',
    prefix: ATTACHMENT_PREFIX.pending,
    permissions: ['table:read', 'table:write', 'attachments:manage'],
    timeoutSeconds: 30,
  },
];

/** Routes that a CDK deployment serves (never the local-only dev routes). */
export const deployedHttpRoutes = (): HttpRoute[] => httpRoutes.filter((route) => !route.localOnly);

/** A route-table entry a CDK deployment makes a Lambda function of. */
export type DeployedRoute = HttpRoute | WsRoute | StreamConsumer | BucketConsumer;

/** Every function infra/stack.ts creates, one per entry (and handler file), in the stack's order. */
export const deployedRoutes = (): DeployedRoute[] => [
  ...wsRoutes,
  ...deployedHttpRoutes(),
  ...streamConsumers,
  ...bucketConsumers,
];

/** A stable construct/function name derived from a handler path, e.g. `http-create-chat`. */
export const functionId = (route: { handler: string }): string =>
  route.handler
    .replace(/^functions\//, '')
    .replace(/\.ts$/, '')
    .replace(/[^a-zA-Z0-9]+/g, '-');
