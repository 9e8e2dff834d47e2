/**
 * Who takes part in a chat, and each participant's own state on their participant item: membership
 * reads, a participant's chat list (byParticipant) as ids, read positions and unread counts, and the
 * mute preference.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { indexByName } from '../../config/table.ts';
import type { ChatRecord, Participant } from '../../domain/schemas.ts';
import { batchGetAll, isConditionFailed, queryAll, type TableContext } from './client.ts';
import {
  chatIdOf,
  getChat,
  joinedVersionOf,
  membersVersionOf,
  toChat,
  toParticipant,
} from './chat-records.ts';
import { keys } from './keys.ts';

const byParticipant = indexByName('byParticipant');

/** The participant items of a chat (its `PART#` items). */
export const participantItems = (
  table: TableContext,
  chatId: string,
  options: { consistent?: boolean } = {},
): Promise<Record<string, unknown>[]> =>
  queryAll(table, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
    ExpressionAttributeValues: { ':pk': keys.chat(chatId).pk, ':part': keys.PART_PREFIX },
    ...(options.consistent ? { ConsistentRead: true } : {}),
  });

export const participants = async (
  table: TableContext,
  chatId: string,
  options: { consistent?: boolean } = {},
): Promise<Participant[]> => (await participantItems(table, chatId, options)).map(toParticipant);

/** The participants once `change` is applied: the current ones (read consistently) plus `add`, less `remove`. */
export const membersAfter = async (
  table: TableContext,
  chatId: string,
  change: { readonly add?: readonly Participant[]; readonly remove?: readonly string[] },
): Promise<Participant[]> => {
  const removed = new Set(change.remove ?? []);
  return [...(await participants(table, chatId, { consistent: true })), ...(change.add ?? [])].filter(
    (p) => !removed.has(p.userId),
  );
};

/**
 * The chat and whether `userId` takes part in it: one consistent BatchGet of the chat item and the
 * participant item (billed as the two reads it is, one round trip instead of two).
 */
export const chatAccess = async (
  table: TableContext,
  chatId: string,
  userId?: string,
): Promise<{ chat: ChatRecord | undefined; member: boolean }> => {
  if (userId === undefined)
    return { chat: await getChat(table, chatId, { consistent: true }), member: false };
  const chatKey = keys.chat(chatId);
  const items = await batchGetAll(table, [chatKey, keys.participant(chatId, userId)], undefined, {
    consistent: true,
  });
  const chatItem = items.find((item) => item.sk === chatKey.sk);
  return {
    chat: chatItem ? toChat(chatItem) : undefined,
    member: items.some((item) => item.sk !== chatKey.sk),
  };
};

/** The tenant on `userId`'s participant item of the chat (consistent, 1 RRU), if they take part. */
export const memberTenant = async (
  table: TableContext,
  chatId: string,
  userId: string,
): Promise<string | undefined> => {
  const { Item: item } = await table.doc.send(
    new GetCommand({
      TableName: table.tableName,
      Key: keys.participant(chatId, userId),
      ProjectionExpression: 'tenantId',
      ConsistentRead: true,
    }),
  );
  return typeof item?.tenantId === 'string' ? item.tenantId : undefined;
};

/**
 * `chatAccess` for several chats, in the order of `chatIds`: one consistent BatchGet of the chat items
 * and (with `userId`) the caller's participant items, with each chat's membersVersion.
 *
 * `vouch`: each membersVersion returned for a member is one at which the member took part, so that a
 * subscription may record it (shared/domain/delivery-scope.ts). One BatchGet reads its items
 * independently, so it may see a removal's new version and the participant item the removal deletes;
 * the version still vouches when it equals the participant item's `joinedVersion` (no removal at all
 * since the participant joined). Otherwise the participant items are read again, after the chat items:
 * one found then was a participant at or after the version read before it.
 */
export const chatsAccess = async (
  table: TableContext,
  chatIds: readonly string[],
  userId?: string,
  options: { vouch?: boolean } = {},
): Promise<{ chat: ChatRecord | undefined; member: boolean; membersVersion: number }[]> => {
  const memberKey = (chatId: string) => keys.participant(chatId, userId ?? '');
  const items = await batchGetAll(
    table,
    chatIds.flatMap((chatId) => [keys.chat(chatId), ...(userId === undefined ? [] : [memberKey(chatId)])]),
    undefined,
    { consistent: true },
  );
  const chatSk = keys.chat('').sk;
  const chats = new Map<string, Record<string, unknown>>();
  const members = new Map<string, Record<string, unknown>>();
  for (const item of items) (item.sk === chatSk ? chats : members).set(item.pk as string, item);
  const found = chatIds.map((chatId) => {
    const { pk } = keys.chat(chatId);
    const item = chats.get(pk);
    return { chatId, pk, chat: item ? toChat(item) : undefined, membersVersion: membersVersionOf(item) };
  });
  const unsure = options.vouch
    ? found.filter(({ pk, chat, membersVersion }) => {
        const member = members.get(pk);
        return chat && member && joinedVersionOf(member) !== membersVersion;
      })
    : [];
  if (unsure.length > 0) {
    for (const { pk } of unsure) members.delete(pk);
    const keysAgain = unsure.map(({ chatId }) => memberKey(chatId));
    for (const item of await batchGetAll(table, keysAgain, undefined, { consistent: true }))
      members.set(item.pk as string, item);
  }
  return found.map(({ pk, chat, membersVersion }) => ({ chat, member: members.has(pk), membersVersion }));
};

/** Which of the chats `userId` takes part in: one BatchGet of the participant items. */
export const chatsWithMember = async (
  table: TableContext,
  chatIds: string[],
  userId: string,
): Promise<Set<string>> => {
  const items = await batchGetAll(
    table,
    chatIds.map((chatId) => keys.participant(chatId, userId)),
    { expression: 'pk' },
  );
  return new Set(items.map(chatIdOf));
};

/** A participant's own items from the byParticipant index, newest activity first, at most `max`. */
const participantRows = (
  table: TableContext,
  tenantId: string,
  userId: string,
  max: number,
  projection: string,
): Promise<Record<string, unknown>[]> =>
  queryAll(
    table,
    {
      IndexName: byParticipant.indexName,
      KeyConditionExpression: `${byParticipant.partitionKey} = :p`,
      ExpressionAttributeValues: { ':p': keys.participantIndex(tenantId, userId) },
      ScanIndexForward: false,
      ProjectionExpression: projection,
    },
    max,
  );

/** Chats both users take part in (from their participant lists, at most `max` each). */
export const sharedChats = async (
  table: TableContext,
  tenantId: string,
  userA: string,
  userB: string,
  max: number,
): Promise<string[]> => {
  const [a, b] = await Promise.all(
    [userA, userB].map(async (user) =>
      (await participantRows(table, tenantId, user, max, 'chatId')).map((row) => row.chatId as string),
    ),
  );
  const ofB = new Set(b);
  return (a ?? []).filter((chatId) => ofB.has(chatId));
};

/**
 * Every chat of a participant with its last seq and the participant's last read seq (at most `max`).
 * Both reads project only those attributes: a chat item also carries its subject, metadata, feedback and
 * index keys (kilobytes each), and a caller may have 1,000 chats.
 */
export const unreadOf = async (
  table: TableContext,
  tenantId: string,
  userId: string,
  max: number,
): Promise<{ chatId: string; lastSeq: number; lastReadSeq: number; mentionSeqs: number[] }[]> => {
  const rows = await participantRows(table, tenantId, userId, max, 'chatId, lastReadSeq, mentionSeqs');
  const lastSeqs = await batchGetAll(
    table,
    rows.map((row) => keys.chat(row.chatId as string)),
    { expression: 'chatId, lastSeq' },
  );
  const lastSeqOf = new Map(lastSeqs.map((item) => [item.chatId as string, Number(item.lastSeq ?? 0)]));
  return rows.flatMap((row) => {
    const chatId = row.chatId as string;
    const lastSeq = lastSeqOf.get(chatId);
    return lastSeq === undefined
      ? []
      : [
          {
            chatId,
            lastSeq,
            lastReadSeq: Number(row.lastReadSeq ?? 0),
            mentionSeqs: numbersOf(row.mentionSeqs),
          },
        ];
  });
};

export const readState = async (
  table: TableContext,
  chatId: string,
  userId: string,
): Promise<{ lastReadSeq: number; muted: boolean; mentionSeqs: number[] } | undefined> => {
  const { Item: item } = await table.doc.send(
    new GetCommand({
      TableName: table.tableName,
      Key: keys.participant(chatId, userId),
      ProjectionExpression: 'lastReadSeq, muted, mentionSeqs',
      ConsistentRead: true,
    }),
  );
  return item
    ? {
        lastReadSeq: Number(item.lastReadSeq ?? 0),
        muted: item.muted === true,
        mentionSeqs: numbersOf(item.mentionSeqs),
      }
    : undefined;
};

/** A number set as read back (a Set of numbers), as a sorted array. */
const numbersOf = (value: unknown): number[] =>
  value instanceof Set ? [...(value as Set<number>)].map(Number).sort((a, b) => a - b) : [];

/**
 * Message `seq` mentions these participants: its seq joins each one's `mentionSeqs` (a number set, so
 * a repeat adds nothing). Not for users who are no longer participants. 1 WCU each (+1 for the
 * participant index, which projects every attribute).
 */
export const addMentions = async (
  table: TableContext,
  chatId: string,
  userIds: readonly string[],
  seq: number,
): Promise<void> => {
  await Promise.all(
    userIds.map((userId) =>
      table.doc
        .send(
          new UpdateCommand({
            TableName: table.tableName,
            Key: keys.participant(chatId, userId),
            UpdateExpression: 'ADD mentionSeqs :seq',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':seq': new Set([seq]) },
          }),
        )
        .catch((error: unknown) => {
          if (!isConditionFailed(error)) throw error;
        }),
    ),
  );
};

/** False when the user is not a participant. */
export const setPreferences = async (
  table: TableContext,
  chatId: string,
  userId: string,
  preferences: { muted: boolean },
): Promise<boolean> => {
  try {
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.participant(chatId, userId),
        UpdateExpression: 'SET muted = :muted',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':muted': preferences.muted },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailed(error)) return false;
    throw error;
  }
};
