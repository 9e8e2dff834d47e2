/**
 * Who takes part in a chat, and each participant's own state on their participant item: membership
 * reads, a participant's chat list (byParticipant) as ids, read positions and unread counts, and the
 * mute preference.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { indexByName } from '../../config/table.ts';
import type { Participant } from '../../domain/schemas.ts';
import { batchGetAll, isConditionFailed, queryAll, type TableContext } from './client.ts';
import { chatIdOf, chatsById, toParticipant } from './chat-records.ts';
import { keys } from './keys.ts';

const byParticipant = indexByName('byParticipant');

/** The participant items of a chat (its `PART#` items). */
export const participantItems = (table: TableContext, chatId: string): Promise<Record<string, unknown>[]> =>
  queryAll(table, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :part)',
    ExpressionAttributeValues: { ':pk': keys.chat(chatId).pk, ':part': keys.PART_PREFIX },
  });

export const participants = async (table: TableContext, chatId: string): Promise<Participant[]> =>
  (await participantItems(table, chatId)).map(toParticipant);

/** The participants once `change` is applied: the current ones plus `add`, less `remove`. */
export const membersAfter = async (
  table: TableContext,
  chatId: string,
  change: { readonly add?: readonly Participant[]; readonly remove?: readonly string[] },
): Promise<Participant[]> => {
  const removed = new Set(change.remove ?? []);
  return [...(await participants(table, chatId)), ...(change.add ?? [])].filter(
    (p) => !removed.has(p.userId),
  );
};

export const isParticipant = async (
  table: TableContext,
  chatId: string,
  userId: string,
): Promise<boolean> => {
  const result = await table.doc.send(
    new GetCommand({
      TableName: table.tableName,
      Key: keys.participant(chatId, userId),
      ProjectionExpression: 'pk',
    }),
  );
  return result.Item !== undefined;
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

/** Every chat of a participant with its last seq and the participant's last read seq (at most `max`). */
export const unreadOf = async (
  table: TableContext,
  tenantId: string,
  userId: string,
  max: number,
): Promise<{ chatId: string; lastSeq: number; lastReadSeq: number; mentionSeqs: number[] }[]> => {
  const rows = await participantRows(table, tenantId, userId, max, 'chatId, lastReadSeq, mentionSeqs');
  const chats = await chatsById(
    table,
    rows.map((row) => row.chatId as string),
  );
  const byChat = new Map(rows.map((row) => [row.chatId as string, row]));
  return chats.map((chat) => ({
    chatId: chat.chatId,
    lastSeq: chat.lastSeq,
    lastReadSeq: Number(byChat.get(chat.chatId)?.lastReadSeq ?? 0),
    mentionSeqs: numbersOf(byChat.get(chat.chatId)?.mentionSeqs),
  }));
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
