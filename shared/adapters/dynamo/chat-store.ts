import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ENTITY, indexByName } from '../../config/table.ts';
import { BusyError, ConflictError, NotFoundError, ValidationError } from '../../domain/errors.ts';
import { isListChange } from '../../domain/chat-list-feed.ts';
import {
  type AuditRecord,
  type ChatChange,
  type ChatEventRecord,
  type ChatRecord,
  type ChatStore,
  type Clock,
  type FilteredListRequest,
  type Page,
  systemClock,
} from '../../domain/ports.ts';
import type { Chat, Message, Participant, Role } from '../../domain/schemas.ts';
import { newId } from '../../domain/ids.ts';
import {
  batchGetAll,
  decodeCursor,
  encodeCursor,
  queryAll,
  queryRange,
  type TableContext,
  transactWithRetry,
} from './client.ts';
import { keys, pad } from './keys.ts';
import { chatItem, metadataIndexAttributes, metadataKeys, slotAttributes } from './metadata-index.ts';
import {
  DEFAULT_INDEXED_METADATA_KEYS,
  type MetadataSlot,
  metadataSlots,
} from '../../config/metadata-index.ts';
import {
  indexedConditions,
  matchesChat,
  type MetadataCondition,
  scalarKey,
} from '../../domain/chat-filter.ts';

const byParticipant = indexByName('byParticipant');
/** Precision of the activity order of chat lists (see touchActivity). */
export const ACTIVITY_RESOLUTION_MS = 10_000;
/**
 * A chat's list position for its lastActivityAt, and the oldest position that still counts as current
 * (ACTIVITY_RESOLUTION_MS behind): touchActivity moves positions older than `stale` to `activity`, and
 * the metadata backfill (metadata-backfill.ts) judges the equality indexes' sort keys the same way.
 */
export const activityPositions = (
  lastActivityAt: string,
  chatId: string,
): { activity: string; stale: string } => ({
  activity: keys.activitySort(lastActivityAt, chatId),
  stale: keys.activitySort(
    new Date(Date.parse(lastActivityAt) - ACTIVITY_RESOLUTION_MS).toISOString(),
    chatId,
  ),
});
/** Chats whose list positions a process remembers (touchActivity); the least recently touched go first. */
const LISTED_AT_MAX = 10_000;
const byTenant = indexByName('byTenant');
const byTenantChanges = indexByName('byTenantChanges');

/** The attributes that put an item into a tenant's chat change log (shared/domain/chat-list-feed.ts). */
const changeLogKeys = (tenantId: string, at: string, chatId: string, eventSeq: number) => ({
  [byTenantChanges.partitionKey]: keys.tenantChanges(tenantId),
  [byTenantChanges.sortKey]: keys.changeSort(at, chatId, eventSeq),
});

const CHAT_FIELDS = [
  'chatId',
  'tenantId',
  'subject',
  'metadata',
  'status',
  'createdBy',
  'createdAt',
  'updatedAt',
  'lastActivityAt',
  'lastSeq',
  'lastEventSeq',
  'rating',
  'feedback',
  'closedAt',
  'assignee',
  'assignedAt',
] as const;

const toChat = (item: Record<string, unknown>): ChatRecord => {
  const chat: Record<string, unknown> = {};
  for (const field of CHAT_FIELDS) if (item[field] !== undefined) chat[field] = item[field];
  return chat as ChatRecord;
};

const toChatEvent = (item: Record<string, unknown>): ChatEventRecord => {
  const base = {
    chatId: item.chatId as string,
    tenantId: item.tenantId as string,
    eventSeq: item.eventSeq as number,
    at: item.at as string,
    actorId: item.actorId as string,
  };
  const type = item.type as ChatEventRecord['type'];
  if (type === 'message.updated' || type === 'message.deleted')
    return { ...base, type, data: item.data as Message };
  if (type === 'receipt') return { ...base, type, data: item.data as { userId: string; seq: number } };
  return {
    ...base,
    type,
    data: item.data as Chat,
    ...(item.before ? { before: toChat(item.before as Record<string, unknown>) } : {}),
  };
};

const toAudit = (item: Record<string, unknown>): AuditRecord => ({
  chatId: item.chatId as string,
  tenantId: item.tenantId as string,
  at: item.at as string,
  actorId: item.actorId as string,
  actorRole: item.actorRole as AuditRecord['actorRole'],
  action: item.action as string,
  ...(item.before ? { before: item.before as Record<string, unknown> } : {}),
  ...(item.after ? { after: item.after as Record<string, unknown> } : {}),
});

const toParticipant = (item: Record<string, unknown>): Participant => ({
  userId: item.userId as string,
  role: item.role as Participant['role'],
  joinedAt: item.joinedAt as string,
});

/** Index pages one filtered list call reads at most before it returns what it found and a cursor. */
export const MAX_FILTER_PAGES = 5;
/** updatedAfter bounds the activity indexes' sort keys this far below the time (positions lag activity). */
const UPDATED_AFTER_MARGIN_MS = 60_000;

interface FilterPlan {
  readonly indexName: string;
  readonly pkAttr: string;
  readonly skAttr: string;
  readonly partition: string;
  /** Sort-key condition on `#sk`. */
  readonly sk?: { readonly expression: string; readonly values: Record<string, string> };
  readonly descending: boolean;
  /** The condition the index answers exactly. */
  readonly answers?: MetadataCondition;
  /** A user each chat must also have as participant (checked by BatchGet). */
  readonly member?: string;
}

const rangeCondition = (condition: MetadataCondition): FilterPlan['sk'] => {
  const { numberSort, NUMBER_PREFIX, HIGH } = metadataKeys;
  const between = (from: string, to: string) => ({
    expression: '#sk BETWEEN :from AND :to',
    values: { ':from': from, ':to': to },
  });
  switch (condition.op) {
    case 'gt':
      return between(numberSort(condition.value) + HIGH, NUMBER_PREFIX + HIGH);
    case 'gte':
      return between(numberSort(condition.value), NUMBER_PREFIX + HIGH);
    case 'lt':
      return between(NUMBER_PREFIX, numberSort(condition.value));
    case 'lte':
      return between(NUMBER_PREFIX, numberSort(condition.value) + HIGH);
    case 'between':
      return between(numberSort(condition.value[0]), numberSort(condition.value[1]) + HIGH);
    case 'begins_with':
      return {
        expression: 'begins_with(#sk, :prefix)',
        values: { ':prefix': metadataKeys.TEXT_PREFIX + condition.value },
      };
    default:
      return undefined;
  }
};

/**
 * Which index answers a filter: a participant's list (users always read their own; staff with
 * `participant`), else the equality index of an indexed `eq` (newest activity first), else the range
 * index of an indexed range or prefix condition (value order), else the tenant's list (standard fields).
 */
export const planFilter = (
  request: Pick<FilteredListRequest, 'tenantId' | 'member' | 'filter'>,
  slots: readonly MetadataSlot[] = metadataSlots(),
): FilterPlan => {
  const { tenantId, member, filter } = request;
  const activity = filter.updatedAfter
    ? {
        expression: '#sk >= :from',
        values: {
          ':from': new Date(Date.parse(filter.updatedAfter) - UPDATED_AFTER_MARGIN_MS).toISOString(),
        },
      }
    : undefined;
  const listOf = member ?? filter.participant;
  if (listOf)
    return {
      indexName: byParticipant.indexName,
      pkAttr: byParticipant.partitionKey,
      skAttr: byParticipant.sortKey,
      partition: keys.participantIndex(tenantId, listOf),
      ...(activity ? { sk: activity } : {}),
      descending: true,
      ...(filter.participant && filter.participant !== listOf ? { member: filter.participant } : {}),
    };
  const indexed = indexedConditions(
    filter,
    slots.map((slot) => slot.key),
  );
  const eq = indexed.find((condition) => condition.op === 'eq');
  const eqSlot = slots.find((slot) => slot.key === eq?.key);
  const eqValue = eq?.op === 'eq' ? scalarKey(eq.value) : undefined;
  if (eq && eqSlot && eqValue !== undefined)
    return {
      indexName: eqSlot.eqIndex,
      pkAttr: eqSlot.eqPk,
      skAttr: eqSlot.eqSk,
      partition: metadataKeys.eqPartition(tenantId, eqSlot.key, eqValue),
      ...(activity ? { sk: activity } : {}),
      descending: true,
      answers: eq,
    };
  const range = indexed.find((condition) => condition.op !== 'eq');
  const rangeSlot = slots.find((slot) => slot.key === range?.key);
  const sk = range ? rangeCondition(range) : undefined;
  if (range && rangeSlot && sk)
    return {
      indexName: rangeSlot.rangeIndex,
      pkAttr: rangeSlot.rangePk,
      skAttr: rangeSlot.rangeSk,
      partition: metadataKeys.rangePartition(tenantId, rangeSlot.key),
      sk,
      descending: false,
      answers: range,
    };
  return {
    indexName: byTenant.indexName,
    pkAttr: byTenant.partitionKey,
    skAttr: byTenant.sortKey,
    partition: keys.tenantIndex(tenantId),
    ...(activity ? { sk: activity } : {}),
    descending: true,
  };
};

export class DynamoChatStore implements ChatStore {
  /**
   * Per chat, the lowest list position (ms) this process knows every one of its list items to have
   * reached (touchActivity). A later activity less than ACTIVITY_RESOLUTION_MS past it has nothing to
   * move, so the fan-out skips the reads: a busy chat costs one check per window per container.
   */
  private readonly listedAt = new Map<string, number>();

  readonly indexedMetadataKeys: readonly string[];
  private readonly slots: readonly MetadataSlot[];

  /** `indexedMetadataKeys`: the keys the table's metadata GSIs are built for (INDEXED_METADATA_KEYS). */
  constructor(
    private readonly table: TableContext,
    indexedMetadataKeys: readonly string[] = DEFAULT_INDEXED_METADATA_KEYS,
    /** Stamps each change (`at`, `updatedAt`, the audit record's time): the services' clock. */
    private readonly clock: Clock = systemClock,
  ) {
    this.indexedMetadataKeys = [...indexedMetadataKeys];
    this.slots = metadataSlots(this.indexedMetadataKeys);
  }

  async create(
    chat: ChatRecord,
    participants: Participant[],
    actor: { userId: string; role: Role },
    uniqueKey?: string,
  ): Promise<{ chat: ChatRecord; created: boolean }> {
    const audit: AuditRecord = {
      chatId: chat.chatId,
      tenantId: chat.tenantId,
      at: chat.createdAt,
      actorId: actor.userId,
      actorRole: actor.role,
      action: 'chat.create',
      after: {
        subject: chat.subject,
        metadata: chat.metadata,
        participants: participants.map((participant) => participant.userId),
      },
    };
    const { tableName } = this.table;
    const activity = keys.activitySort(chat.lastActivityAt, chat.chatId);
    const items = [
      {
        Put: {
          TableName: tableName,
          Item: chatItem(chat, this.slots),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...participants.map((participant) => ({
        Put: { TableName: tableName, Item: this.participantItem(chat, participant, activity) },
      })),
      { Put: { TableName: tableName, Item: this.auditItem(audit) } },
      {
        Put: {
          TableName: tableName,
          Item: {
            ...keys.chatCreated(chat.chatId),
            entity: ENTITY.chatCreated,
            tenantId: chat.tenantId,
            chatId: chat.chatId,
            at: chat.createdAt,
            data: chat,
            ...changeLogKeys(chat.tenantId, chat.createdAt, chat.chatId, 0),
          },
        },
      },
    ];
    // Keep the unique-set item last: its cancellation reason tells a duplicate apart.
    if (uniqueKey) {
      items.push({
        Put: {
          TableName: tableName,
          Item: {
            ...keys.uniqueChat(chat.tenantId, uniqueKey),
            entity: ENTITY.uniqueChat,
            chatId: chat.chatId,
          } as never,
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    try {
      // Two creates of one unique participant set race on the unique item: on DynamoDB the loser may be
      // cancelled with TransactionConflict rather than a failed condition; retried, it finds the winner's.
      await transactWithRetry(
        this.table,
        new TransactWriteCommand({ TransactItems: items }),
        'chats of these participants are being created too often, retry',
      );
      return { chat, created: true };
    } catch (error) {
      if (!uniqueKey || !(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      if (reasons[reasons.length - 1]?.Code !== 'ConditionalCheckFailed') throw error;
      const existing = await this.table.doc.send(
        new GetCommand({
          TableName: tableName,
          Key: keys.uniqueChat(chat.tenantId, uniqueKey),
          ConsistentRead: true,
        }),
      );
      const found = existing.Item ? await this.get(existing.Item.chatId as string) : undefined;
      if (!found) throw new NotFoundError('chat');
      return { chat: found, created: false };
    }
  }

  async change(
    chatId: string,
    actor: { userId: string; role: Role },
    change: ChatChange,
  ): Promise<{ chat: ChatRecord; event: ChatEventRecord } | undefined> {
    const { tableName } = this.table;
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.get(chatId, { consistent: true });
      if (!current) throw new NotFoundError('chat');
      const planned = change(current);
      if (!planned) return undefined;
      const previous = current.lastEventSeq ?? 0;
      const eventSeq = previous + 1;
      const at = this.clock.now().toISOString();
      const fields: Record<string, unknown> = {
        ...planned.set,
        ...(planned.set || planned.participants ? { updatedAt: at } : {}),
        lastEventSeq: eventSeq,
      };
      const chat = { ...current, ...fields } as ChatRecord;
      for (const field of planned.unset ?? []) delete (chat as Partial<ChatRecord>)[field];
      // A metadata change rewrites the metadata GSIs' attributes and removes those of dropped keys.
      const dropped = [
        ...this.withMetadataIndex(fields, chat, planned.set?.metadata !== undefined),
        ...(planned.unset ?? []).filter((field) => !(field in fields)),
      ];
      const names = Object.fromEntries(Object.keys(fields).map((field, i) => [`#f${i}`, field]));
      const values = Object.fromEntries(Object.values(fields).map((value, i) => [`:f${i}`, value]));
      const removed = Object.fromEntries(dropped.map((field, i) => [`#r${i}`, field]));
      const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
        {
          Update: {
            TableName: tableName,
            Key: keys.chat(chatId),
            UpdateExpression: `SET ${Object.keys(names)
              .map((name, i) => `${name} = :f${i}`)
              .join(', ')}${dropped.length > 0 ? ` REMOVE ${Object.keys(removed).join(', ')}` : ''}`,
            ConditionExpression:
              previous === 0
                ? 'attribute_not_exists(lastEventSeq) OR lastEventSeq = :prev'
                : 'lastEventSeq = :prev',
            ExpressionAttributeNames: { ...names, ...removed },
            ExpressionAttributeValues: { ...values, ':prev': previous },
          },
        },
      ];
      const activity = keys.activitySort(current.lastActivityAt, chatId);
      for (const participant of planned.participants?.add ?? []) {
        items.push({
          Put: {
            TableName: tableName,
            Item: this.participantItem(current, participant, activity),
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        });
      }
      for (const userId of planned.participants?.remove ?? []) {
        items.push({
          Delete: {
            TableName: tableName,
            Key: keys.participant(chatId, userId),
            ConditionExpression: 'attribute_exists(pk)',
          },
        });
      }
      if (planned.message) {
        items.push({
          Put: {
            TableName: tableName,
            Item: {
              ...keys.message(chatId, planned.message.seq),
              entity: ENTITY.message,
              ...planned.message,
            },
            // Still the message that was read, and not deleted in the meantime.
            ConditionExpression: 'messageId = :mid AND attribute_not_exists(deletedAt)',
            ExpressionAttributeValues: { ':mid': planned.message.messageId },
          },
        });
      }
      if (planned.receipt) {
        items.push({
          Update: {
            TableName: tableName,
            Key: keys.participant(chatId, planned.receipt.userId),
            UpdateExpression: 'SET lastReadSeq = :read',
            // A read position only moves forward.
            ConditionExpression:
              'attribute_exists(pk) AND (attribute_not_exists(lastReadSeq) OR lastReadSeq < :read)',
            ExpressionAttributeValues: { ':read': planned.receipt.seq },
          },
        });
      }
      const callerConditions = items.length - 1;
      const base = { chatId, tenantId: current.tenantId, eventSeq, at, actorId: actor.userId };
      const type = planned.event.type;
      let event: ChatEventRecord;
      if (type === 'message.updated' || type === 'message.deleted') {
        if (!planned.message) throw new Error(`${type} needs the message`);
        event = { ...base, type, data: planned.message };
      } else if (type === 'receipt') {
        if (!planned.receipt) throw new Error('receipt needs the read position');
        event = { ...base, type, data: planned.receipt };
      } else {
        const data: Chat = planned.participants
          ? { ...chat, participants: await this.membersAfter(chatId, planned.participants) }
          : chat;
        event = { ...base, type, data, before: current };
      }
      items.push({
        Put: {
          TableName: tableName,
          Item: {
            ...keys.chatEvent(chatId, eventSeq),
            entity: ENTITY.chatEvent,
            ...event,
            // Changes a live chat list shows are also entries of the tenant's chat change log.
            ...(isListChange(event.type) ? changeLogKeys(current.tenantId, at, chatId, eventSeq) : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
      if (planned.audit) {
        items.push({
          Put: {
            TableName: tableName,
            Item: this.auditItem(
              {
                chatId,
                tenantId: current.tenantId,
                at,
                actorId: actor.userId,
                actorRole: actor.role,
                ...planned.audit,
              },
              eventSeq,
            ),
          },
        });
      }
      try {
        await this.table.doc.send(new TransactWriteCommand({ TransactItems: items }));
        return { chat, event };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        // Membership, message or read-position conditions that fail are the caller's conflict, not a
        // race to retry (the chat item is first; the event and audit items come after them).
        const callerItems = reasons.slice(1, 1 + callerConditions);
        if (callerItems.some((reason) => reason.Code === 'ConditionalCheckFailed')) {
          throw new ConflictError('the participant or message changed meanwhile; reload and retry');
        }
        // Another change (or a concurrent message on the chat item) won: re-read and re-plan.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));
      }
    }
    throw new BusyError('the chat is changing too often, retry');
  }

  private async membersAfter(
    chatId: string,
    change: { readonly add?: readonly Participant[]; readonly remove?: readonly string[] },
  ): Promise<Participant[]> {
    const removed = new Set(change.remove ?? []);
    return [...(await this.participants(chatId)), ...(change.add ?? [])].filter(
      (p) => !removed.has(p.userId),
    );
  }

  private participantItem(
    chat: ChatRecord,
    participant: Participant,
    activity: string,
  ): Record<string, unknown> {
    return {
      ...keys.participant(chat.chatId, participant.userId),
      entity: ENTITY.participant,
      chatId: chat.chatId,
      tenantId: chat.tenantId,
      ...participant,
      gsi1pk: keys.participantIndex(chat.tenantId, participant.userId),
      gsi1sk: activity,
    };
  }

  async setPreferences(chatId: string, userId: string, preferences: { muted: boolean }): Promise<boolean> {
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.participant(chatId, userId),
          UpdateExpression: 'SET muted = :muted',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':muted': preferences.muted },
        }),
      );
      return true;
    } catch (error) {
      if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async readState(
    chatId: string,
    userId: string,
  ): Promise<{ lastReadSeq: number; muted: boolean } | undefined> {
    const { Item: item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.participant(chatId, userId),
        ProjectionExpression: 'lastReadSeq, muted',
        ConsistentRead: true,
      }),
    );
    return item ? { lastReadSeq: Number(item.lastReadSeq ?? 0), muted: item.muted === true } : undefined;
  }

  async unreadOf(
    tenantId: string,
    userId: string,
    max: number,
  ): Promise<{ chatId: string; lastSeq: number; lastReadSeq: number }[]> {
    const rows = await this.participantRows(tenantId, userId, max, 'chatId, lastReadSeq');
    const chats = await this.chatsById(rows.map((row) => row.chatId as string));
    const read = new Map(rows.map((row) => [row.chatId as string, Number(row.lastReadSeq ?? 0)]));
    return chats.map((chat) => ({
      chatId: chat.chatId,
      lastSeq: chat.lastSeq,
      lastReadSeq: read.get(chat.chatId) ?? 0,
    }));
  }

  async preferences(chatId: string, userId: string): Promise<{ muted: boolean } | undefined> {
    const { Item: item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.participant(chatId, userId),
        ProjectionExpression: 'muted',
      }),
    );
    return item ? { muted: item.muted === true } : undefined;
  }

  async eventsAfter(
    chatId: string,
    afterEvent: number,
    limit: number,
  ): Promise<{ items: ChatEventRecord[]; hasMore: boolean }> {
    const page = await queryRange(this.table, {
      pk: keys.chat(chatId).pk,
      from: keys.chatEvent(chatId, afterEvent + 1).sk,
      to: `${keys.EVT_PREFIX}~`,
      limit,
    });
    return { items: page.items.map(toChatEvent), hasMore: page.hasMore };
  }

  async auditTrail(chatId: string, limit: number, cursor?: string): Promise<Page<AuditRecord>> {
    const pk = keys.chat(chatId).pk;
    const result = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
        ExpressionAttributeValues: { ':pk': pk, ':audit': keys.AUDIT_PREFIX },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: decodeCursor(cursor, { pk }),
      }),
    );
    const nextCursor = encodeCursor(result.LastEvaluatedKey);
    return { items: (result.Items ?? []).map(toAudit), ...(nextCursor ? { nextCursor } : {}) };
  }

  async sharedChats(tenantId: string, userA: string, userB: string, max: number): Promise<string[]> {
    const [a, b] = await Promise.all(
      [userA, userB].map((user) => this.participantChatIds(tenantId, user, max)),
    );
    const ofB = new Set(b);
    return (a ?? []).filter((chatId) => ofB.has(chatId));
  }

  async recordAudit(audit: AuditRecord): Promise<void> {
    await this.table.doc.send(
      new PutCommand({ TableName: this.table.tableName, Item: this.auditItem(audit) }),
    );
  }

  private async participantChatIds(tenantId: string, userId: string, max: number): Promise<string[]> {
    return (await this.participantRows(tenantId, userId, max, 'chatId')).map((row) => row.chatId as string);
  }

  /** A participant's own items from the byParticipant index, newest activity first, at most `max`. */
  private participantRows(
    tenantId: string,
    userId: string,
    max: number,
    projection: string,
  ): Promise<Record<string, unknown>[]> {
    return queryAll(
      this.table,
      {
        IndexName: byParticipant.indexName,
        KeyConditionExpression: `${byParticipant.partitionKey} = :p`,
        ExpressionAttributeValues: { ':p': keys.participantIndex(tenantId, userId) },
        ScanIndexForward: false,
        ProjectionExpression: projection,
      },
      max,
    );
  }

  /**
   * `AUDIT#<at>#<id>`: a chat change's record takes its event seq as id (`e<seq>`), so changes within
   * one millisecond still list in the order they happened (and after the creation's `a_…` record).
   */
  private auditItem(audit: AuditRecord, eventSeq?: number): Record<string, unknown> {
    const id = eventSeq === undefined ? newId('a', 8) : `e${pad(eventSeq)}`;
    return { ...keys.audit(audit.chatId, audit.at, id), entity: ENTITY.audit, ...audit };
  }

  async get(chatId: string, options: { consistent?: boolean } = {}): Promise<ChatRecord | undefined> {
    const result = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.chat(chatId),
        ConsistentRead: options.consistent,
      }),
    );
    return result.Item ? toChat(result.Item) : undefined;
  }

  async participants(chatId: string): Promise<Participant[]> {
    return (await this.participantItems(chatId)).map(toParticipant);
  }

  private participantItems(chatId: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.table, {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
      ExpressionAttributeValues: { ':pk': keys.chat(chatId).pk, ':part': keys.PART_PREFIX },
    });
  }

  async isParticipant(chatId: string, userId: string): Promise<boolean> {
    const result = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.participant(chatId, userId),
        ProjectionExpression: 'pk',
      }),
    );
    return result.Item !== undefined;
  }

  listForParticipant(
    tenantId: string,
    userId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<ChatRecord>> {
    return this.listByIndex(byParticipant, keys.participantIndex(tenantId, userId), limit, cursor);
  }

  listForTenant(tenantId: string, limit: number, cursor?: string): Promise<Page<ChatRecord>> {
    return this.listByIndex(byTenant, keys.tenantIndex(tenantId), limit, cursor);
  }

  /**
   * A filtered list (docs/data-model.md, "Metadata filters"): one index Query answers the driving
   * condition (planFilter), the chats come by BatchGet and every condition is checked on them. Index
   * pages are read until `limit` chats match, the index ends or MAX_FILTER_PAGES pages were read; the
   * cursor is the index key of the last row examined. Pages come sorted by exact lastActivityAt.
   */
  async listFiltered(request: FilteredListRequest): Promise<Page<ChatRecord>> {
    const { tenantId, filter, limit } = request;
    const plan = planFilter(request, this.slots);
    const narrowed =
      plan.member !== undefined ||
      filter.status !== undefined ||
      filter.assignee !== undefined ||
      filter.updatedAfter !== undefined ||
      filter.metadata.some((condition) => condition !== plan.answers);
    const ownRows =
      request.reader !== undefined &&
      plan.indexName === byParticipant.indexName &&
      plan.partition === keys.participantIndex(tenantId, request.reader);
    let startKey = decodeCursor(request.cursor, { [plan.pkAttr]: plan.partition });
    const items: ChatRecord[] = [];
    let next: Record<string, unknown> | undefined;
    for (let page = 0; page < MAX_FILTER_PAGES; page++) {
      const result = await this.table.doc
        .send(
          new QueryCommand({
            TableName: this.table.tableName,
            IndexName: plan.indexName,
            KeyConditionExpression: `#pk = :p${plan.sk ? ` AND ${plan.sk.expression}` : ''}`,
            ExpressionAttributeNames: { '#pk': plan.pkAttr, ...(plan.sk ? { '#sk': plan.skAttr } : {}) },
            ExpressionAttributeValues: { ':p': plan.partition, ...plan.sk?.values },
            ScanIndexForward: !plan.descending,
            // Without conditions beyond the index's own, every row is a result: read just enough.
            Limit: narrowed ? Math.min(100, Math.max(2 * limit, 25)) : limit - items.length,
            ExclusiveStartKey: startKey,
          }),
        )
        .catch((error: unknown) => {
          // A cursor from another filter on the same index can lie outside this query's key range.
          if (startKey && (error as { name?: string }).name === 'ValidationException') {
            throw new ValidationError('invalid cursor: it belongs to another filter');
          }
          throw error;
        });
      const rows = result.Items ?? [];
      const ids = rows.map((row) => String(row.pk).slice('CHAT#'.length));
      // Rows of the caller's own participant index carry the caller's read position.
      const read = ownRows ? new Map(ids.map((id, i) => [id, Number(rows[i]?.lastReadSeq ?? 0)])) : undefined;
      const [chats, members] = await Promise.all([
        this.chatsById(ids),
        plan.member ? this.chatsWithMember(ids, plan.member) : undefined,
      ]);
      const byId = new Map(chats.map((chat) => [chat.chatId, chat]));
      next = result.LastEvaluatedKey;
      for (const [i, row] of rows.entries()) {
        const chat = byId.get(ids[i] ?? '');
        if (
          chat &&
          chat.tenantId === tenantId &&
          (!members || members.has(chat.chatId)) &&
          matchesChat(chat, filter)
        ) {
          const lastReadSeq = read?.get(chat.chatId);
          items.push(
            lastReadSeq === undefined
              ? chat
              : { ...chat, lastReadSeq, unread: Math.max(0, chat.lastSeq - lastReadSeq) },
          );
        }
        if (items.length === limit) {
          next =
            i < rows.length - 1
              ? { pk: row.pk, sk: row.sk, [plan.pkAttr]: row[plan.pkAttr], [plan.skAttr]: row[plan.skAttr] }
              : result.LastEvaluatedKey;
          break;
        }
      }
      if (items.length === limit || !next) break;
      startKey = next;
    }
    items.sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
    const nextCursor = encodeCursor(next);
    return { items, ...(nextCursor ? { nextCursor } : {}) };
  }

  /** Which of the chats `userId` takes part in: one BatchGet of the participant items. */
  private async chatsWithMember(chatIds: string[], userId: string): Promise<Set<string>> {
    const items = await batchGetAll(
      this.table,
      chatIds.map((chatId) => keys.participant(chatId, userId)),
      { expression: 'pk' },
    );
    return new Set(items.map((item) => String(item.pk).slice('CHAT#'.length)));
  }

  /** Sets the metadata GSIs' attributes into `fields` when the metadata changes; returns those to remove. */
  private withMetadataIndex(fields: Record<string, unknown>, chat: ChatRecord, changed: boolean): string[] {
    if (!changed) return [];
    const attributes = metadataIndexAttributes(
      chat.tenantId,
      chat.chatId,
      chat.metadata,
      chat.lastActivityAt,
      this.slots,
    );
    Object.assign(fields, attributes);
    return slotAttributes(this.slots).filter((name) => attributes[name] === undefined);
  }

  /**
   * Moves the chat up the lists that order by activity: the tenant's (byTenant, on the chat item) and
   * each participant's (byParticipant, on the participant items). An item is rewritten only when its
   * position is more than ACTIVITY_RESOLUTION_MS behind, so a busy chat costs one list write per item
   * per window instead of one per message. The chat's exact lastActivityAt is set by every send.
   * The metadata equality indexes (byMetaN, on the chat item too) move with `gsi2sk` in the same update.
   */
  async touchActivity(chatId: string, lastActivityAt: string): Promise<void> {
    const activityMs = Date.parse(lastActivityAt);
    const known = this.listedAt.get(chatId);
    if (known !== undefined && activityMs - ACTIVITY_RESOLUTION_MS < known) return;
    const { activity, stale } = activityPositions(lastActivityAt, chatId);
    const [chat, participants] = await Promise.all([
      this.table.doc.send(
        new GetCommand({
          TableName: this.table.tableName,
          Key: keys.chat(chatId),
          ProjectionExpression: ['gsi2sk', ...this.slots.map((slot) => slot.eqPk)].join(', '),
        }),
      ),
      this.participantItems(chatId),
    ]);
    const chatItemNow = chat.Item;
    const behind = [
      ...(chatItemNow && String(chatItemNow.gsi2sk ?? '') < stale
        ? [
            {
              key: keys.chat(chatId),
              attribute: 'gsi2sk',
              also: this.slots
                .filter((slot) => chatItemNow[slot.eqPk] !== undefined)
                .map((slot) => slot.eqSk),
            },
          ]
        : []),
      ...participants
        .filter((item) => String(item.gsi1sk ?? '') < stale)
        .map((item) => ({
          key: keys.participant(chatId, item.userId as string),
          attribute: 'gsi1sk',
          also: [] as string[],
        })),
    ];
    await Promise.all(
      behind.map(({ key, attribute, also }) =>
        this.table.doc
          .send(
            new UpdateCommand({
              TableName: this.table.tableName,
              Key: key,
              UpdateExpression: `SET ${[attribute, ...also].map((name) => `${name} = :activity`).join(', ')}`,
              // Never move a chat back in a list when records are replayed or raced.
              ConditionExpression: `attribute_exists(pk) AND ${attribute} < :activity`,
              ExpressionAttributeValues: { ':activity': activity },
            }),
          )
          .catch((error: unknown) => {
            if ((error as { name?: string }).name !== 'ConditionalCheckFailedException') throw error;
          }),
      ),
    );
    // Moved items (or items a racing touch moved further) now sit at `activity` or later; the others
    // stay where they were read.
    const positions = [
      ...(chatItemNow ? [String(chatItemNow.gsi2sk ?? '')] : []),
      ...participants.map((item) => String(item.gsi1sk ?? '')),
    ].map((position) => (position < stale ? activityMs : Date.parse(position.split('#')[0] ?? '')));
    const floor = Math.min(activityMs, ...positions);
    if (!Number.isNaN(floor)) {
      this.listedAt.delete(chatId);
      this.listedAt.set(chatId, floor);
      if (this.listedAt.size > LISTED_AT_MAX) {
        const oldest = this.listedAt.keys().next().value;
        if (oldest !== undefined) this.listedAt.delete(oldest);
      }
    }
  }

  /** Index items hold keys only for the chat; the chats themselves come in one BatchGet. */
  private async listByIndex(
    index: { indexName: string; partitionKey: string },
    partition: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<ChatRecord>> {
    const result = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        IndexName: index.indexName,
        KeyConditionExpression: `${index.partitionKey} = :p`,
        ExpressionAttributeValues: { ':p': partition },
        ScanIndexForward: false,
        Limit: limit,
        ExclusiveStartKey: decodeCursor(cursor, { [index.partitionKey]: partition }),
      }),
    );
    const rows = result.Items ?? [];
    const nextCursor = encodeCursor(result.LastEvaluatedKey);
    // Both indexes hold keys to chats (byTenant projects keys only, byParticipant holds participant
    // items), so the chats themselves come from one BatchGet: `CHAT#<chatId>` is the pk of either.
    const chats = await this.chatsById(rows.map((row) => String(row.pk).slice('CHAT#'.length)));
    // byParticipant rows are the caller's own participant items: their read position comes for free.
    const read =
      index.indexName === byParticipant.indexName
        ? new Map(rows.map((row) => [String(row.pk).slice('CHAT#'.length), Number(row.lastReadSeq ?? 0)]))
        : undefined;
    const withUnread = read
      ? chats.map((chat) => {
          const lastReadSeq = read.get(chat.chatId) ?? 0;
          return { ...chat, lastReadSeq, unread: Math.max(0, chat.lastSeq - lastReadSeq) };
        })
      : chats;
    // The index orders chats to ACTIVITY_RESOLUTION_MS; within a page the exact lastActivityAt decides.
    const items = withUnread.sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
    return { items, ...(nextCursor ? { nextCursor } : {}) };
  }

  private async chatsById(chatIds: string[]): Promise<ChatRecord[]> {
    const items = await batchGetAll(
      this.table,
      chatIds.map((chatId) => keys.chat(chatId)),
    );
    const found = new Map(items.map((item) => [item.chatId as string, toChat(item)]));
    return chatIds.flatMap((id) => {
      const chat = found.get(id);
      return chat ? [chat] : [];
    });
  }
}
