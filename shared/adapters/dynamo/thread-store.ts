/**
 * Threads: a reply's entry `CHAT#<chat> / THR#<parent seq>#<reply seq>` (written with the parent's new
 * reply count, in the same transaction: shared/adapters/dynamo/chat-writes.ts) lists a parent's replies
 * in seq order with one Query; the replies themselves are read with BatchGet.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { ThreadStore } from '../../domain/ports.ts';
import type { Message } from '../../domain/schemas.ts';
import { batchGetAll, queryRange, type TableContext } from './client.ts';
import { keys } from './keys.ts';
import { toMessage } from './message-store.ts';

export const threadEntry = (chatId: string, parentSeq: number, replySeq: number) => ({
  ...keys.threadReply(chatId, parentSeq, replySeq),
  entity: ENTITY.threadReply,
  parentSeq,
  replySeq,
});

export class DynamoThreadStore implements ThreadStore {
  constructor(private readonly table: TableContext) {}

  async mark(chatId: string, parentSeq: number, replySeq: number): Promise<void> {
    await this.table.doc.send(
      new PutCommand({ TableName: this.table.tableName, Item: threadEntry(chatId, parentSeq, replySeq) }),
    );
  }

  async marked(chatId: string, parentSeq: number, replySeq: number): Promise<boolean> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.threadReply(chatId, parentSeq, replySeq),
        ConsistentRead: true,
      }),
    );
    return Item !== undefined;
  }

  async replySeqs(
    chatId: string,
    parentSeq: number,
    after: number,
    limit: number,
  ): Promise<{ items: number[]; hasMore: boolean }> {
    const page = await queryRange(this.table, {
      pk: keys.chat(chatId).pk,
      from: keys.threadReply(chatId, parentSeq, after + 1).sk,
      to: `${keys.threadReply(chatId, parentSeq, 0).sk.slice(0, -12)}~`,
      limit,
    });
    return { items: page.items.map((item) => Number(item.replySeq)), hasMore: page.hasMore };
  }

  async messages(chatId: string, seqs: readonly number[]): Promise<Message[]> {
    const items = await batchGetAll(
      this.table,
      seqs.map((seq) => keys.message(chatId, seq)),
    );
    return items.map(toMessage);
  }

  async deletedAmong(chatId: string, seqs: readonly number[]): Promise<Set<number>> {
    if (seqs.length === 0) return new Set();
    const items = await batchGetAll(
      this.table,
      [...new Set(seqs)].map((seq) => keys.message(chatId, seq)),
      { expression: 'seq, deletedAt' },
    );
    return new Set(items.filter((item) => item.deletedAt !== undefined).map((item) => Number(item.seq)));
  }
}
