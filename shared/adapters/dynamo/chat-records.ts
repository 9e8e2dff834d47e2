/**
 * How a chat's items are stored (docs/data-model.md): the participant, audit and change-log items the
 * chat modules write, the mapping of stored items back to records, and the reads of chat items (one by
 * GetItem, many by BatchGet).
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY, indexByName } from '../../config/table.ts';
import { newId } from '../../domain/ids.ts';
import type { AuditRecord, ChatEventRecord, ChatInternals } from '../../domain/ports.ts';
import type { Chat, ChatRecord, Message, Participant } from '../../domain/schemas.ts';
import { batchGetAll, type TableContext } from './client.ts';
import { keys, pad } from './keys.ts';

const byTenantChanges = indexByName('byTenantChanges');

/** The attributes that put an item into a tenant's chat change log (shared/domain/chat-list-feed.ts). */
export const changeLogKeys = (tenantId: string, at: string, chatId: string, eventSeq: number) => ({
  [byTenantChanges.partitionKey]: keys.tenantChanges(tenantId),
  [byTenantChanges.sortKey]: keys.changeSort(at, chatId, eventSeq),
});

/**
 * A participant item, placed in the participant's chat list (byParticipant) at `activity`.
 * `joinedVersion`: the chat's membersVersion when it is written (kept when above 0), which the
 * participant holds until a later removal (chat-membership.ts `chatsAccess`).
 */
export const participantItem = (
  chat: ChatRecord,
  participant: Participant,
  activity: string,
  joinedVersion = 0,
): Record<string, unknown> => ({
  ...keys.participant(chat.chatId, participant.userId),
  entity: ENTITY.participant,
  chatId: chat.chatId,
  tenantId: chat.tenantId,
  ...participant,
  ...(joinedVersion > 0 ? { joinedVersion } : {}),
  gsi1pk: keys.participantIndex(chat.tenantId, participant.userId),
  gsi1sk: activity,
});

/**
 * `AUDIT#<at>#<id>`: a chat change's record takes its event seq as id (`e<seq>`), so changes within
 * one millisecond still list in the order they happened (and after the creation's `a_…` record).
 */
export const auditItem = (audit: AuditRecord, eventSeq?: number): Record<string, unknown> => {
  const id = eventSeq === undefined ? newId('a', 8) : `e${pad(eventSeq)}`;
  return { ...keys.audit(audit.chatId, audit.at, id), entity: ENTITY.audit, ...audit };
};

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

export const toChat = (item: Record<string, unknown>): ChatRecord => {
  const chat: Record<string, unknown> = {};
  for (const field of CHAT_FIELDS) if (item[field] !== undefined) chat[field] = item[field];
  return chat as ChatRecord;
};

export const toChatEvent = (item: Record<string, unknown>): ChatEventRecord => {
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

export const toAudit = (item: Record<string, unknown>): AuditRecord => ({
  chatId: item.chatId as string,
  tenantId: item.tenantId as string,
  at: item.at as string,
  actorId: item.actorId as string,
  actorRole: item.actorRole as AuditRecord['actorRole'],
  action: item.action as string,
  ...(item.before ? { before: item.before as Record<string, unknown> } : {}),
  ...(item.after ? { after: item.after as Record<string, unknown> } : {}),
});

export const toParticipant = (item: Record<string, unknown>): Participant => ({
  userId: item.userId as string,
  role: item.role as Participant['role'],
  joinedAt: item.joinedAt as string,
});

/** The chat id of any item in a chat's partition (`CHAT#<chatId>`), such as an index row's. */
export const chatIdOf = (item: Record<string, unknown>): string => String(item.pk).slice('CHAT#'.length);

export const getChat = async (
  table: TableContext,
  chatId: string,
  options: { consistent?: boolean } = {},
): Promise<ChatRecord | undefined> => {
  const result = await table.doc.send(
    new GetCommand({
      TableName: table.tableName,
      Key: keys.chat(chatId),
      ConsistentRead: options.consistent,
    }),
  );
  return result.Item ? toChat(result.Item) : undefined;
};

/**
 * The chat item's `membersVersion`: how many participant removals it has had (0 before the first). The
 * append stamps it on each message and a subscription records the one it was authorized at, so the
 * fan-out needs no participants read while they match (shared/domain/delivery-scope.ts).
 */
export const membersVersionOf = (item: Record<string, unknown> | undefined): number =>
  versionOf(item?.membersVersion);

/** A participant item's `joinedVersion` (participantItem; absent: 0). */
export const joinedVersionOf = (item: Record<string, unknown>): number => versionOf(item.joinedVersion);

const versionOf = (value: unknown): number => {
  const version = Number(value ?? 0);
  return Number.isSafeInteger(version) && version > 0 ? version : 0;
};

/**
 * The chat read consistently, with what changes know of it beyond its record (ChatInternals): the
 * metadata keys agents and services own (`staffKeys`, never part of the record clients see).
 */
export const getChatForChange = async (
  table: TableContext,
  chatId: string,
): Promise<{ chat: ChatRecord; internals: ChatInternals } | undefined> => {
  const { Item: item } = await table.doc.send(
    new GetCommand({ TableName: table.tableName, Key: keys.chat(chatId), ConsistentRead: true }),
  );
  if (!item) return undefined;
  const staffKeys = Array.isArray(item.staffKeys) ? item.staffKeys.map(String) : [];
  return { chat: toChat(item), internals: { staffKeys, membersVersion: membersVersionOf(item) } };
};

/** The chats of `chatIds` that exist, in the order of `chatIds`: one BatchGet (`consistent`: strongly). */
export const chatsById = async (
  table: TableContext,
  chatIds: readonly string[],
  options: { consistent?: boolean } = {},
): Promise<ChatRecord[]> => {
  const items = await batchGetAll(
    table,
    chatIds.map((chatId) => keys.chat(chatId)),
    undefined,
    options,
  );
  const found = new Map(items.map((item) => [item.chatId as string, toChat(item)]));
  return chatIds.flatMap((id) => {
    const chat = found.get(id);
    return chat ? [chat] : [];
  });
};
