/**
 * A chat's history: reads of its event log (`EVT#` items, what pollers catch up from) and of its audit
 * trail (`AUDIT#` items, newest first), and the audit record of an action that is not a chat change.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { AuditRecord, ChatEventRecord, Page } from '../../domain/ports.ts';
import { decodeCursor, encodeCursor, queryRange, type TableContext } from './client.ts';
import { auditItem, toAudit, toChatEvent } from './chat-records.ts';
import { keys } from './keys.ts';

/** Events with eventSeq > afterEvent, ascending. */
export const eventsAfter = async (
  table: TableContext,
  chatId: string,
  afterEvent: number,
  limit: number,
): Promise<{ items: ChatEventRecord[]; hasMore: boolean }> => {
  const page = await queryRange(table, {
    pk: keys.chat(chatId).pk,
    from: keys.chatEvent(chatId, afterEvent + 1).sk,
    to: `${keys.EVT_PREFIX}~`,
    limit,
  });
  return { items: page.items.map(toChatEvent), hasMore: page.hasMore };
};

/** Audit records, newest first. */
export const auditTrail = async (
  table: TableContext,
  chatId: string,
  limit: number,
  cursor?: string,
): Promise<Page<AuditRecord>> => {
  const pk = keys.chat(chatId).pk;
  const result = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :audit)',
      ExpressionAttributeValues: { ':pk': pk, ':audit': keys.AUDIT_PREFIX },
      ScanIndexForward: false,
      Limit: limit,
      ExclusiveStartKey: decodeCursor(cursor, { pk }),
    }),
  );
  const nextCursor = encodeCursor(result.LastEvaluatedKey);
  return { items: (result.Items ?? []).map(toAudit), ...(nextCursor ? { nextCursor } : {}) };
};

/** An audit record for an action that is not itself a chat change (blocking). */
export const recordAudit = async (table: TableContext, audit: AuditRecord): Promise<void> => {
  await table.doc.send(new PutCommand({ TableName: table.tableName, Item: auditItem(audit) }));
};
