import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ENTITY, indexByName } from '../../config/table.ts';
import { BusyError, NotFoundError } from '../../domain/errors.ts';
import type {
  AuditRecord,
  ChatChange,
  ChatEventRecord,
  ChatRecord,
  ChatStore,
  Page,
} from '../../domain/ports.ts';
import type { Role } from '../../domain/schemas.ts';
import { newId } from '../../domain/ids.ts';
import type { Participant } from '../../domain/schemas.ts';
import { decodeCursor, encodeCursor, type TableContext } from './client.ts';
import { keys } from './keys.ts';

const byParticipant = indexByName('byParticipant');
/** Precision of the activity order of chat lists (see touchActivity). */
export const ACTIVITY_RESOLUTION_MS = 10_000;
const byTenant = indexByName('byTenant');

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
] as const;

const toChat = (item: Record<string, unknown>): ChatRecord => {
  const chat: Record<string, unknown> = {};
  for (const field of CHAT_FIELDS) if (item[field] !== undefined) chat[field] = item[field];
  return chat as ChatRecord;
};

const toChatEvent = (item: Record<string, unknown>): ChatEventRecord => ({
  chatId: item.chatId as string,
  tenantId: item.tenantId as string,
  eventSeq: item.eventSeq as number,
  type: item.type as ChatEventRecord['type'],
  at: item.at as string,
  actorId: item.actorId as string,
  data: toChat(item.data as Record<string, unknown>),
});

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

export class DynamoChatStore implements ChatStore {
  constructor(private readonly table: TableContext) {}

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
          Item: {
            ...keys.chat(chat.chatId),
            entity: ENTITY.chat,
            ...chat,
            gsi2pk: keys.tenantIndex(chat.tenantId),
            gsi2sk: activity,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...participants.map((participant) => ({
        Put: {
          TableName: tableName,
          Item: {
            ...keys.participant(chat.chatId, participant.userId),
            entity: ENTITY.participant,
            chatId: chat.chatId,
            tenantId: chat.tenantId,
            ...participant,
            gsi1pk: keys.participantIndex(chat.tenantId, participant.userId),
            gsi1sk: activity,
          },
        },
      })),
      { Put: { TableName: tableName, Item: this.auditItem(audit) } },
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
      await this.table.doc.send(new TransactWriteCommand({ TransactItems: items }));
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
    for (let attempt = 0; attempt < 20; attempt++) {
      const current = await this.get(chatId, { consistent: true });
      if (!current) throw new NotFoundError('chat');
      const planned = change(current);
      if (!planned) return undefined;
      const previous = current.lastEventSeq ?? 0;
      const at = new Date().toISOString();
      const chat: ChatRecord = { ...current, ...planned.set, updatedAt: at, lastEventSeq: previous + 1 };
      const event: ChatEventRecord = {
        chatId,
        tenantId: current.tenantId,
        eventSeq: previous + 1,
        type: planned.event.type,
        at,
        actorId: actor.userId,
        data: chat,
      };
      const fields = { ...planned.set, updatedAt: at, lastEventSeq: previous + 1 };
      const names = Object.fromEntries(Object.keys(fields).map((field, i) => [`#f${i}`, field]));
      const values = Object.fromEntries(Object.values(fields).map((value, i) => [`:f${i}`, value]));
      try {
        await this.table.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Update: {
                  TableName: this.table.tableName,
                  Key: keys.chat(chatId),
                  UpdateExpression: `SET ${Object.keys(names)
                    .map((name, i) => `${name} = :f${i}`)
                    .join(', ')}`,
                  ConditionExpression:
                    previous === 0
                      ? 'attribute_not_exists(lastEventSeq) OR lastEventSeq = :prev'
                      : 'lastEventSeq = :prev',
                  ExpressionAttributeNames: names,
                  ExpressionAttributeValues: { ...values, ':prev': previous },
                },
              },
              {
                Put: {
                  TableName: this.table.tableName,
                  Item: { ...keys.chatEvent(chatId, event.eventSeq), entity: ENTITY.chatEvent, ...event },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Put: {
                  TableName: this.table.tableName,
                  Item: this.auditItem({
                    chatId,
                    tenantId: current.tenantId,
                    at,
                    actorId: actor.userId,
                    actorRole: actor.role,
                    ...planned.audit,
                  }),
                },
              },
            ],
          }),
        );
        return { chat, event };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        // Another change (or a concurrent message on the chat item) won: re-read and re-plan.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));
      }
    }
    throw new BusyError('the chat is changing too often, retry');
  }

  async eventsAfter(
    chatId: string,
    afterEvent: number,
    limit: number,
  ): Promise<{ items: ChatEventRecord[]; hasMore: boolean }> {
    const result = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': keys.chat(chatId).pk,
          ':from': keys.chatEvent(chatId, afterEvent + 1).sk,
          ':to': `${keys.EVT_PREFIX}~`,
        },
        Limit: limit + 1,
      }),
    );
    const items = (result.Items ?? []).map(toChatEvent);
    return { items: items.slice(0, limit), hasMore: items.length > limit };
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

  private auditItem(audit: AuditRecord): Record<string, unknown> {
    return { ...keys.audit(audit.chatId, audit.at, newId('a', 8)), entity: ENTITY.audit, ...audit };
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

  private async participantItems(chatId: string): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.table.doc.send(
        new QueryCommand({
          TableName: this.table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
          ExpressionAttributeValues: { ':pk': keys.chat(chatId).pk, ':part': keys.PART_PREFIX },
          ExclusiveStartKey: startKey,
        }),
      );
      out.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
    } while (startKey);
    return out;
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
   * Moves the chat up the lists that order by activity: the tenant's (byTenant, on the chat item) and
   * each participant's (byParticipant, on the participant items). An item is rewritten only when its
   * position is more than ACTIVITY_RESOLUTION_MS behind, so a busy chat costs one list write per item
   * per window instead of one per message. The chat's exact lastActivityAt is set by every send.
   */
  async touchActivity(chatId: string, lastActivityAt: string): Promise<void> {
    const activity = keys.activitySort(lastActivityAt, chatId);
    const stale = keys.activitySort(
      new Date(Date.parse(lastActivityAt) - ACTIVITY_RESOLUTION_MS).toISOString(),
      chatId,
    );
    const [chat, participants] = await Promise.all([
      this.table.doc.send(
        new GetCommand({
          TableName: this.table.tableName,
          Key: keys.chat(chatId),
          ProjectionExpression: 'gsi2sk',
        }),
      ),
      this.participantItems(chatId),
    ]);
    const behind = [
      ...(chat.Item && String(chat.Item.gsi2sk ?? '') < stale
        ? [{ key: keys.chat(chatId), attribute: 'gsi2sk' }]
        : []),
      ...participants
        .filter((item) => String(item.gsi1sk ?? '') < stale)
        .map((item) => ({ key: keys.participant(chatId, item.userId as string), attribute: 'gsi1sk' })),
    ];
    await Promise.all(
      behind.map(({ key, attribute }) =>
        this.table.doc
          .send(
            new UpdateCommand({
              TableName: this.table.tableName,
              Key: key,
              UpdateExpression: `SET ${attribute} = :activity`,
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
    // The index orders chats to ACTIVITY_RESOLUTION_MS; within a page the exact lastActivityAt decides.
    const items = chats.sort((a, b) => b.lastActivityAt.localeCompare(a.lastActivityAt));
    return { items, ...(nextCursor ? { nextCursor } : {}) };
  }

  private async chatsById(chatIds: string[]): Promise<ChatRecord[]> {
    const found = new Map<string, ChatRecord>();
    let pending = chatIds.map((chatId) => keys.chat(chatId));
    for (let attempt = 0; pending.length > 0 && attempt < 5; attempt++) {
      const result = await this.table.doc.send(
        new BatchGetCommand({ RequestItems: { [this.table.tableName]: { Keys: pending } } }),
      );
      for (const item of result.Responses?.[this.table.tableName] ?? [])
        found.set(item.chatId as string, toChat(item));
      pending = (result.UnprocessedKeys?.[this.table.tableName]?.Keys ?? []) as typeof pending;
      if (pending.length > 0) await new Promise((resolve) => setTimeout(resolve, 20 * 2 ** attempt));
    }
    return chatIds.flatMap((id) => {
      const chat = found.get(id);
      return chat ? [chat] : [];
    });
  }
}
