/**
 * Chat lists, newest activity first: a participant's (byParticipant) and a tenant's (byTenant), and
 * filtered lists read through the index planFilter picks (chat-filter-plan.ts). Index rows hold keys
 * only; the chats come by BatchGet.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { MetadataSlot } from '../../config/metadata-index.ts';
import { indexByName } from '../../config/table.ts';
import { matchesChat } from '../../domain/chat-filter.ts';
import { ValidationError } from '../../domain/errors.ts';
import { unreadCount } from '../../domain/unread.ts';
import type { FilteredListRequest, Page } from '../../domain/ports.ts';
import type { ChatRecord } from '../../domain/schemas.ts';
import { decodeCursor, encodeCursor, errorName, type TableContext } from './client.ts';
import { planFilter } from './chat-filter-plan.ts';
import { chatsWithMember } from './chat-membership.ts';
import { chatIdOf, chatsById } from './chat-records.ts';
import { keys } from './keys.ts';

const byParticipant = indexByName('byParticipant');
const byTenant = indexByName('byTenant');

/** Index pages one filtered list call reads at most before it returns what it found and a cursor. */
export const MAX_FILTER_PAGES = 5;

/** The chat as its participant sees it: with their read position and the messages after it. */
const withReadPosition = (chat: ChatRecord, lastReadSeq: number): ChatRecord => ({
  ...chat,
  lastReadSeq,
  unread: unreadCount(chat.lastSeq, lastReadSeq),
});

/** The indexes order chats to ACTIVITY_RESOLUTION_MS; within a page the exact lastActivityAt decides. */
const newestFirst = (a: ChatRecord, b: ChatRecord): number =>
  b.lastActivityAt.localeCompare(a.lastActivityAt);

/** Index items hold keys only for the chat; the chats themselves come in one BatchGet. */
const listByIndex = async (
  table: TableContext,
  index: { indexName: string; partitionKey: string },
  partition: string,
  limit: number,
  cursor?: string,
): Promise<Page<ChatRecord>> => {
  const result = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
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
  const chats = await chatsById(table, rows.map(chatIdOf));
  // byParticipant rows are the caller's own participant items: their read position comes for free.
  const read =
    index.indexName === byParticipant.indexName
      ? new Map(rows.map((row) => [chatIdOf(row), Number(row.lastReadSeq ?? 0)]))
      : undefined;
  const withUnread = read ? chats.map((chat) => withReadPosition(chat, read.get(chat.chatId) ?? 0)) : chats;
  const items = withUnread.sort(newestFirst);
  return { items, ...(nextCursor ? { nextCursor } : {}) };
};

export const listForParticipant = (
  table: TableContext,
  tenantId: string,
  userId: string,
  limit: number,
  cursor?: string,
): Promise<Page<ChatRecord>> =>
  listByIndex(table, byParticipant, keys.participantIndex(tenantId, userId), limit, cursor);

export const listForTenant = (
  table: TableContext,
  tenantId: string,
  limit: number,
  cursor?: string,
): Promise<Page<ChatRecord>> => listByIndex(table, byTenant, keys.tenantIndex(tenantId), limit, cursor);

/**
 * A filtered list (docs/data-model.md, "Metadata filters"): one index Query answers the driving
 * condition (planFilter), the chats come by BatchGet and every condition is checked on them. Index
 * pages are read until `limit` chats match, the index ends or MAX_FILTER_PAGES pages were read; the
 * cursor is the index key of the last row examined. Pages come sorted by exact lastActivityAt.
 */
export const listFiltered = async (
  table: TableContext,
  slots: readonly MetadataSlot[],
  request: FilteredListRequest,
): Promise<Page<ChatRecord>> => {
  const { tenantId, filter, limit } = request;
  const plan = planFilter(request, slots);
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
    const result = await table.doc
      .send(
        new QueryCommand({
          TableName: table.tableName,
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
        if (startKey && errorName(error) === 'ValidationException') {
          throw new ValidationError('invalid cursor: it belongs to another filter');
        }
        throw error;
      });
    const rows = result.Items ?? [];
    const ids = rows.map(chatIdOf);
    // Rows of the caller's own participant index carry the caller's read position.
    const read = ownRows ? new Map(ids.map((id, i) => [id, Number(rows[i]?.lastReadSeq ?? 0)])) : undefined;
    const [chats, members] = await Promise.all([
      chatsById(table, ids),
      plan.member ? chatsWithMember(table, ids, plan.member) : undefined,
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
        items.push(lastReadSeq === undefined ? chat : withReadPosition(chat, lastReadSeq));
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
  items.sort(newestFirst);
  const nextCursor = encodeCursor(next);
  return { items, ...(nextCursor ? { nextCursor } : {}) };
};
