/**
 * What a message deletion removes besides the message item: its earlier events' text and attachment.
 * Each `message.updated` event of a message (an edit, a reply counted) is written with a link item
 * `MEVT#<message seq>#<event seq>` in the same transaction, so a deletion finds them with one Query of
 * its links instead of reading the whole log; the deletion itself writes `DELETED#<seq>`, the record of
 * what is left to do, which goes last, once the events are scrubbed and the attachment file removed.
 */
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import { backoff, isConditionFailed, queryAll, type TableContext } from './client.ts';
import { keys, pad } from './keys.ts';

const LINK_PREFIX = 'MEVT#';

/** The link of a message (`seq`) to one event of the log that carries it. */
export const messageEventLink = (chatId: string, seq: number, eventSeq: number): Record<string, unknown> => ({
  pk: keys.chat(chatId).pk,
  sk: `${LINK_PREFIX}${pad(seq)}#${pad(eventSeq)}`,
  entity: ENTITY.messageEvent,
  eventSeq,
});

/** The record of a pending deletion of message `seq` (what scrubDeleted still has to do). */
export const deletionItem = (
  chatId: string,
  seq: number,
  attachmentId?: string,
): Record<string, unknown> => ({
  ...deletionKey(chatId, seq),
  entity: ENTITY.deletion,
  chatId,
  seq,
  ...(attachmentId ? { attachmentId } : {}),
});

const deletionKey = (chatId: string, seq: number) => ({
  pk: keys.chat(chatId).pk,
  sk: `DELETED#${pad(seq)}`,
});

/** Events scrubbed at once. */
const CONCURRENCY = 8;

/**
 * Finishes the pending deletion of message `seq`, if there is one: every linked event loses the
 * message's text and attachment (and its link), `removeFile` removes the attachment, then the deletion
 * record goes. Each step is idempotent, so a retry after any failure finishes the rest.
 */
export const scrubDeleted = async (
  table: TableContext,
  chatId: string,
  seq: number,
  removeFile: (attachmentId: string) => Promise<void>,
): Promise<void> => {
  const { tableName } = table;
  const { Item: pending } = await table.doc.send(
    new GetCommand({ TableName: tableName, Key: deletionKey(chatId, seq), ConsistentRead: true }),
  );
  if (!pending) return;
  const links = await queryAll(table, {
    KeyConditionExpression: 'pk = :pk AND begins_with(sk, :link)',
    ExpressionAttributeValues: { ':pk': keys.chat(chatId).pk, ':link': `${LINK_PREFIX}${pad(seq)}#` },
    ProjectionExpression: 'pk, sk, eventSeq',
    ConsistentRead: true,
  });
  for (let start = 0; start < links.length; start += CONCURRENCY) {
    await Promise.all(
      links.slice(start, start + CONCURRENCY).map(async (link) => {
        await scrubEvent(table, chatId, Number(link.eventSeq));
        await table.doc.send(new DeleteCommand({ TableName: tableName, Key: { pk: link.pk, sk: link.sk } }));
      }),
    );
  }
  if (typeof pending.attachmentId === 'string') await removeFile(pending.attachmentId);
  await table.doc.send(new DeleteCommand({ TableName: tableName, Key: deletionKey(chatId, seq) }));
};

/** The event keeps its place and type; its message loses the text and the attachment. */
const scrubEvent = async (table: TableContext, chatId: string, eventSeq: number): Promise<void> => {
  for (let attempt = 0; ; attempt++) {
    try {
      await table.doc.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: keys.chatEvent(chatId, eventSeq),
          UpdateExpression: 'SET #data.#text = :empty REMOVE #data.#attachment',
          ConditionExpression: 'attribute_exists(#data.#text)',
          ExpressionAttributeNames: { '#data': 'data', '#text': 'text', '#attachment': 'attachment' },
          ExpressionAttributeValues: { ':empty': '' },
        }),
      );
      return;
    } catch (error) {
      // An event without message text (gone, or not a message's) has nothing to scrub.
      if (isConditionFailed(error)) return;
      if (attempt >= 2) throw error;
      await backoff(attempt, { baseMs: 50 });
    }
  }
};
