/**
 * Composition root shared by every function: configuration read and validated once per cold start,
 * SDK clients and adapters at module scope, the domain services wired to them. Constructors do no I/O.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoChatChangeStore } from './adapters/dynamo/chat-change-store.ts';
import { DynamoChatStore } from './adapters/dynamo/chat-store.ts';
import { DynamoAttachmentStore } from './adapters/dynamo/attachment-store.ts';
import { DynamoBlockStore } from './adapters/dynamo/block-store.ts';
import { createTableContext } from './adapters/dynamo/client.ts';
import { DynamoPresenceStore } from './adapters/dynamo/presence-store.ts';
import { DynamoConnectionStore } from './adapters/dynamo/connection-store.ts';
import { DynamoMessageStore } from './adapters/dynamo/message-store.ts';
import { DynamoRateLimiter } from './adapters/dynamo/rate-limiter.ts';
import { DynamoStatsStore } from './adapters/dynamo/stats-store.ts';
import { DynamoTenantStore } from './adapters/dynamo/tenant-store.ts';
import { DynamoTicketStore } from './adapters/dynamo/ticket-store.ts';
import { DynamoTypingStateStore } from './adapters/dynamo/typing-state-store.ts';
import { ApiGatewayPusher } from './adapters/pusher.ts';
import { S3AttachmentStorage } from './adapters/s3-attachments.ts';
import { secretFromArn } from './adapters/secrets.ts';
import { TokenService } from './auth/tokens.ts';
import { parseEnv } from './config/env.ts';
import { AttachmentService } from './domain/attachments.ts';
import { ChatListFeed } from './domain/chat-list-feed.ts';
import { composeChatDomain } from './domain/compose.ts';
import { systemClock } from './domain/ports.ts';
import { RealtimeService } from './domain/realtime.ts';
import { AutoReplyService, TenantTextResponder } from './domain/responders.ts';
import { StatsService } from './domain/stats.ts';
import { TypingService } from './domain/typing.ts';
import { VisitorService } from './domain/visitors.ts';

export const env = parseEnv();
export const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'serverless-chat' });
// The metrics utility's own notices ("no application metrics to publish" on requests that record none)
// go through a child logger that only reports errors.
export const metrics = new Metrics({
  namespace: 'ServerlessChat',
  serviceName: 'serverless-chat',
  logger: logger.createChild({ logLevel: 'ERROR' }),
});

const fixed = (value: string) => async () => value;
const table = createTableContext(env.TABLE_NAME, env.DYNAMODB_ENDPOINT);

export const stores = {
  chats: new DynamoChatStore(table, env.INDEXED_METADATA_KEYS),
  messages: new DynamoMessageStore(table),
  connections: new DynamoConnectionStore(table),
  tickets: new DynamoTicketStore(table),
  tenants: new DynamoTenantStore(table),
  rateLimiter: new DynamoRateLimiter(table),
  typingState: new DynamoTypingStateStore(table),
  blocks: new DynamoBlockStore(table),
  attachments: new DynamoAttachmentStore(table),
  stats: new DynamoStatsStore(table),
  presence: new DynamoPresenceStore(table),
  chatChanges: new DynamoChatChangeStore(table),
};

export const tokens = new TokenService({
  issuer: env.AUTH_ISSUER,
  audience: env.AUTH_AUDIENCE,
  algorithms: env.AUTH_ALGORITHMS,
  clockToleranceSeconds: env.AUTH_CLOCK_TOLERANCE_SECONDS,
  roleClaim: env.AUTH_ROLE_CLAIM,
  tenantClaim: env.AUTH_TENANT_CLAIM,
  ...(env.AUTH_JWKS_URL ? { jwksUrl: env.AUTH_JWKS_URL } : {}),
  ...(env.AUTH_SECRET
    ? { secret: fixed(env.AUTH_SECRET) }
    : env.AUTH_SECRET_ARN
      ? { secret: secretFromArn(env.AUTH_SECRET_ARN) }
      : {}),
  visitorIssuer: env.VISITOR_ISSUER,
  visitorSecret: env.VISITOR_SECRET ? fixed(env.VISITOR_SECRET) : secretFromArn(env.VISITOR_SECRET_ARN ?? ''),
  visitorTokenTtlSeconds: env.VISITOR_TOKEN_TTL_SECONDS,
  visitorRefreshTtlSeconds: env.VISITOR_REFRESH_TTL_SECONDS,
});

export const { ephemeral, blocks, chats } = composeChatDomain(stores, systemClock);
/** Live chat lists for pollers (GET /v1/chats/changes), read from the tenant's chat change log. */
export const chatLists = new ChatListFeed(stores.chatChanges, systemClock);
export const attachments = new AttachmentService(
  stores.attachments,
  new S3AttachmentStorage({
    bucket: env.ATTACHMENTS_BUCKET,
    ...(env.S3_ENDPOINT ? { endpoint: env.S3_ENDPOINT } : {}),
    ...(env.ATTACHMENTS_DOWNLOAD_BASE ? { downloadBase: env.ATTACHMENTS_DOWNLOAD_BASE } : {}),
  }),
  (identity, chatId) => chats.authorize(identity, chatId),
  systemClock,
  {
    maxBytes: env.ATTACHMENT_MAX_BYTES,
    allowedTypes: env.ATTACHMENT_TYPES,
    inlineTypes: env.ATTACHMENT_INLINE_TYPES,
    uploadTtlSeconds: env.UPLOAD_URL_TTL_SECONDS,
    downloadTtlSeconds: env.DOWNLOAD_URL_TTL_SECONDS,
  },
);
export const realtime = new RealtimeService(
  stores.tickets,
  stores.connections,
  stores.chats,
  new ApiGatewayPusher(env.WS_MANAGEMENT_ENDPOINT),
  systemClock,
  {
    ticketTtlSeconds: env.TICKET_TTL_SECONDS,
    connectionTtlSeconds: env.CONNECTION_TTL_SECONDS,
    publicUrl: env.WS_PUBLIC_URL,
    fanoutConcurrency: env.FANOUT_CONCURRENCY,
  },
  stores.stats,
  stores.presence,
);
/** GET /v1/stats and the counters the fan-out moves. */
export const stats = new StatsService(stores.stats, systemClock);
/**
 * Replies to new chats. A host plugs in its own bot by passing another `Responder` here
 * (docs/operations.md, "Responders").
 */
export const autoReplies = new AutoReplyService(
  stores.tenants,
  (tenantId) => stats.agentsOnline(tenantId),
  stores.messages,
  new TenantTextResponder(),
);
export const visitors = new VisitorService(
  stores.tenants,
  stores.rateLimiter,
  tokens,
  env.VISITOR_RATE_PER_MINUTE,
);
/**
 * Typing indicators: pushed straight from the handler to the other users' sockets; the one write is the
 * chat's typing state (rate limit, and what pollers read). Never history, never the stream.
 */
export const typing = new TypingService(
  {
    authorize: (identity, chatId) => chats.authorize(identity, chatId),
    subscribers: (chatId) => stores.connections.subscriberUsers(chatId),
    userOf: async (connectionId) => (await stores.connections.get(connectionId))?.identity.userId,
    push: (connectionId, envelope) => realtime.push(connectionId, envelope),
    state: stores.typingState,
    clock: systemClock,
    onPushError: (connectionId, error) => logger.warn('typing push failed', { connectionId, error }),
  },
  { intervalMs: 1000, concurrency: env.FANOUT_CONCURRENCY },
);
