/**
 * The DynamoDB table and its stores. Every store is a small class over the one document client, so a
 * function that needs one store pays for the DynamoDB client it needs anyway and nothing else: no S3,
 * no @connections, no Secrets Manager, no jose here. Constructors do no I/O, so each is marked pure:
 * the bundler drops the stores a function never reads, and their classes with them.
 */
import { DynamoAttachmentStore } from '../adapters/dynamo/attachment-store.ts';
import { DynamoBlockStore } from '../adapters/dynamo/block-store.ts';
import { DynamoChatChangeStore } from '../adapters/dynamo/chat-change-store.ts';
import { DynamoChatStore } from '../adapters/dynamo/chat-store.ts';
import { createTableContext } from '../adapters/dynamo/client.ts';
import { DynamoConnectionStore } from '../adapters/dynamo/connection-store.ts';
import { DynamoMessageStore } from '../adapters/dynamo/message-store.ts';
import { DynamoPresenceStore } from '../adapters/dynamo/presence-store.ts';
import { DynamoQuotaStore } from '../adapters/dynamo/quota-store.ts';
import { DynamoRateLimiter } from '../adapters/dynamo/rate-limiter.ts';
import { DynamoReactionStore } from '../adapters/dynamo/reaction-store.ts';
import { DynamoStatsStore } from '../adapters/dynamo/stats-store.ts';
import { DynamoTenantStore } from '../adapters/dynamo/tenant-store.ts';
import { DynamoThreadStore } from '../adapters/dynamo/thread-store.ts';
import { DynamoTicketStore } from '../adapters/dynamo/ticket-store.ts';
import { DynamoTypingStateStore } from '../adapters/dynamo/typing-state-store.ts';
import { env } from './env.ts';

const table = createTableContext(env.TABLE_NAME, env.DYNAMODB_ENDPOINT);
// Read here, not in the constructor call below: a property read counts as a possible side effect, which
// would keep the chat store (and its schemas) in every function that imports this module.
const indexedMetadataKeys = env.INDEXED_METADATA_KEYS;

export const chatStore = /* @__PURE__ */ new DynamoChatStore(table, indexedMetadataKeys);
export const messageStore = /* @__PURE__ */ new DynamoMessageStore(table);
export const connectionStore = /* @__PURE__ */ new DynamoConnectionStore(table);
export const ticketStore = /* @__PURE__ */ new DynamoTicketStore(table);
export const tenantStore = /* @__PURE__ */ new DynamoTenantStore(table);
export const rateLimiter = /* @__PURE__ */ new DynamoRateLimiter(table);
export const quotaStore = /* @__PURE__ */ new DynamoQuotaStore(table);
export const typingStateStore = /* @__PURE__ */ new DynamoTypingStateStore(table);
export const blockStore = /* @__PURE__ */ new DynamoBlockStore(table);
export const attachmentStore = /* @__PURE__ */ new DynamoAttachmentStore(table);
export const statsStore = /* @__PURE__ */ new DynamoStatsStore(table);
export const presenceStore = /* @__PURE__ */ new DynamoPresenceStore(table);
export const chatChangeStore = /* @__PURE__ */ new DynamoChatChangeStore(table);
export const reactionStore = /* @__PURE__ */ new DynamoReactionStore(table);
export const threadStore = /* @__PURE__ */ new DynamoThreadStore(table);
