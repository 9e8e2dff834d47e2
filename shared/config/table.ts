/**
 * The single-table definition. CDK (infra/stack.ts) and the local cloud (infra/local/) both build the
 * table from `tableDefinitionFor(indexed metadata keys)`, so the deployed table and the local one
 * cannot drift.
 * Access patterns are documented in docs/data-model.md.
 */
import { DEFAULT_INDEXED_METADATA_KEYS, metadataSlots } from './metadata-index.ts';

export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey: string;
}

export interface GlobalIndex extends KeySchema {
  readonly indexName: string;
  /**
   * KEYS_ONLY for indexes over items that change often (the chat item changes with every message):
   * an update of an attribute an index does not project costs that index nothing.
   */
  readonly projection: 'ALL' | 'KEYS_ONLY';
  /** What the index answers; copied into docs/data-model.md. */
  readonly purpose: string;
}

export interface TableDefinition extends KeySchema {
  readonly ttlAttribute: string;
  readonly streamView: 'NEW_AND_OLD_IMAGES';
  readonly globalIndexes: readonly GlobalIndex[];
}

export interface TableOptions {
  /**
   * The last key gets only its equality GSI (`byMetaN`): a step of adding or removing a key, since a
   * stack update creates or deletes at most one GSI (docs/deploy.md, "Indexed metadata keys").
   */
  readonly lastKeyEqualityOnly?: boolean;
}

/** Two KEYS_ONLY GSIs per indexed metadata key (shared/config/metadata-index.ts). */
const metadataIndexes = (keys: readonly string[], options: TableOptions): GlobalIndex[] =>
  metadataSlots(keys).flatMap((slot) => {
    const equality: GlobalIndex = {
      indexName: slot.eqIndex,
      partitionKey: slot.eqPk,
      sortKey: slot.eqSk,
      purpose: `chats of a tenant with metadata.${slot.key} = value, newest activity first`,
      projection: 'KEYS_ONLY',
    };
    const range: GlobalIndex = {
      indexName: slot.rangeIndex,
      partitionKey: slot.rangePk,
      sortKey: slot.rangeSk,
      purpose: `chats of a tenant by the value of metadata.${slot.key} (ranges, prefixes)`,
      projection: 'KEYS_ONLY',
    };
    return options.lastKeyEqualityOnly && slot.slot === keys.length ? [equality] : [equality, range];
  });

/** The table for a list of indexed metadata keys (CDK context / the local cloud's keys). */
export const tableDefinitionFor = (
  indexedKeys: readonly string[],
  options: TableOptions = {},
): TableDefinition => ({
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'ttl',
  streamView: 'NEW_AND_OLD_IMAGES',
  globalIndexes: [
    {
      indexName: 'byParticipant',
      partitionKey: 'gsi1pk',
      sortKey: 'gsi1sk',
      purpose: 'chats of a participant, newest activity first',
      projection: 'ALL',
    },
    {
      indexName: 'byTenant',
      partitionKey: 'gsi2pk',
      sortKey: 'gsi2sk',
      purpose: 'chats of a tenant (agents, services), newest activity first',
      projection: 'KEYS_ONLY',
    },
    {
      indexName: 'byTenantChanges',
      partitionKey: 'gsi3pk',
      sortKey: 'gsi3sk',
      purpose:
        "a tenant's chat change log (chat.created, chat.updated, chat.closed, chat.assigned), oldest first",
      // Its items (creation records, chat events) are written once and never updated.
      projection: 'ALL',
    },
    ...metadataIndexes(indexedKeys, options),
  ],
});

/** The table with the default indexed keys (DEFAULT_INDEXED_METADATA_KEYS). */
export const tableDefinition: TableDefinition = tableDefinitionFor(DEFAULT_INDEXED_METADATA_KEYS);

/** Every item carries `entity`; stream filters and the fan-out select on it. */
export const ENTITY = {
  tenant: 'tenant',
  chat: 'chat',
  participant: 'participant',
  message: 'message',
  idempotency: 'idempotency',
  connection: 'connection',
  subscription: 'subscription',
  ticket: 'ticket',
  uniqueChat: 'uniqueChat',
  rateLimit: 'rateLimit',
  attachment: 'attachment',
  chatEvent: 'chatEvent',
  /** A chat's creation record: `chat.created` for watchers (the fan-out) and the chat change log. */
  chatCreated: 'chatCreated',
  watch: 'watch',
  presence: 'presence',
  /** A chat's typing state (never history; no stream consumer selects it). */
  typing: 'typing',
  audit: 'audit',
  /** A message's reactions; its inserts and changes reach sockets as `reaction` envelopes (the fan-out). */
  reactions: 'reactions',
  /** A reply's entry in its parent's thread. */
  threadReply: 'threadReply',
  /** Which events of the log carry a message (its `message.updated` events): scrubbed when it is deleted. */
  messageEvent: 'messageEvent',
  /** A message deletion whose earlier events and attachment file are still being removed. */
  deletion: 'deletion',
  block: 'block',
  blockers: 'blockers',
  stats: 'stats',
} as const;

export const indexByName = (name: string): GlobalIndex => {
  const found = tableDefinition.globalIndexes.find((index) => index.indexName === name);
  if (!found) throw new Error(`unknown index ${name}`);
  return found;
};
