import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  GetCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ENTITY, indexByName } from '../../config/table.ts';
import { NotFoundError } from '../../domain/errors.ts';
import type { ChatRecord, ChatStore, Page } from '../../domain/ports.ts';
import type { Participant } from '../../domain/schemas.ts';
import { decodeCursor, encodeCursor, type TableContext } from './client.ts';
import { keys } from './keys.ts';

const byParticipant = indexByName('byParticipant');
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
] as const;

const toChat = (item: Record<string, unknown>): ChatRecord => {
  const chat: Record<string, unknown> = {};
  for (const field of CHAT_FIELDS) if (item[field] !== undefined) chat[field] = item[field];
  return chat as ChatRecord;
};

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
    uniqueKey?: string,
  ): Promise<{ chat: ChatRecord; created: boolean }> {
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
    ];
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
    const out: Participant[] = [];
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
      out.push(...(result.Items ?? []).map(toParticipant));
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

  async touchParticipants(chatId: string, lastActivityAt: string): Promise<void> {
    const participants = await this.participants(chatId);
    const activity = keys.activitySort(lastActivityAt, chatId);
    await Promise.all(
      participants.map((participant) =>
        this.table.doc
          .send(
            new UpdateCommand({
              TableName: this.table.tableName,
              Key: keys.participant(chatId, participant.userId),
              UpdateExpression: 'SET gsi1sk = :activity',
              // Never move a chat back in a list when records are replayed.
              ConditionExpression: 'attribute_exists(pk) AND gsi1sk < :activity',
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
    if (index.indexName === byTenant.indexName) {
      return { items: rows.map(toChat), ...(nextCursor ? { nextCursor } : {}) };
    }
    const chatIds = rows.map((row) => row.chatId as string);
    const chats = await this.batchGet(chatIds);
    const items = chatIds.flatMap((id) => {
      const chat = chats.get(id);
      return chat ? [chat] : [];
    });
    return { items, ...(nextCursor ? { nextCursor } : {}) };
  }

  private async batchGet(chatIds: string[]): Promise<Map<string, ChatRecord>> {
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
    return found;
  }
}
