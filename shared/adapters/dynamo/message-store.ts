/**
 * Messages with a gap-free per-chat seq. One TransactWriteItems does three things or nothing:
 *   1. chat item: lastSeq = expected + 1 (condition lastSeq = expected, chat open)
 *   2. message item at MSG#<seq> (condition: absent)
 *   3. idempotency item CMID#<sender>#<clientMessageId> → seq (condition: absent)
 * A concurrent sender makes (1) fail; the cancellation reason carries the chat's current lastSeq
 * (ReturnValuesOnConditionCheckFailure), so the retry needs no extra read. A retried clientMessageId makes
 * (3) fail; its old image names the original seq, which is returned instead of writing anything.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ENTITY } from '../../config/table.ts';
import { BusyError, ConflictError, NotFoundError } from '../../domain/errors.ts';
import { newMessageId } from '../../domain/ids.ts';
import type { MessageDraft, MessageStore } from '../../domain/ports.ts';
import type { Message } from '../../domain/schemas.ts';
import type { TableContext } from './client.ts';
import { keys } from './keys.ts';

const MAX_ATTEMPTS = 60;
const HINTS_MAX = 5000;

type Reason = { Code?: string; Item?: Record<string, unknown> };

const toMessage = (item: Record<string, unknown>): Message => ({
  messageId: item.messageId as string,
  chatId: item.chatId as string,
  tenantId: item.tenantId as string,
  seq: item.seq as number,
  clientMessageId: item.clientMessageId as string,
  senderId: item.senderId as string,
  senderRole: item.senderRole as Message['senderRole'],
  type: item.type as Message['type'],
  text: item.text as string,
  createdAt: item.createdAt as string,
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DynamoMessageStore implements MessageStore {
  /** Last seq seen per chat in this process: a guess that saves the read on a warm container. */
  private readonly seqHints = new Map<string, number>();

  /** Consumed capacity of the last append (for the benchmark). */
  lastConsumedCapacity = 0;

  constructor(private readonly table: TableContext) {}

  async append(draft: MessageDraft): Promise<{ message: Message; created: boolean }> {
    let expected = this.seqHints.get(draft.chatId) ?? (await this.readLastSeq(draft.chatId));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const seq = expected + 1;
      const message: Message = { ...draft, seq, messageId: newMessageId(seq) };
      try {
        const result = await this.table.doc.send(this.transaction(message, expected));
        this.lastConsumedCapacity = (result.ConsumedCapacity ?? []).reduce(
          (sum, c) => sum + (c.CapacityUnits ?? 0),
          0,
        );
        this.remember(draft.chatId, seq);
        return { message, created: true };
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const [chatReason, , idempotencyReason] = (error.CancellationReasons ?? []) as Reason[];
        if (idempotencyReason?.Code === 'ConditionalCheckFailed') {
          return { message: await this.original(draft, idempotencyReason.Item), created: false };
        }
        if (chatReason?.Code === 'ConditionalCheckFailed') {
          const chat = chatReason.Item ? unmarshall(chatReason.Item as never) : undefined;
          if (!chat) throw new NotFoundError('chat');
          if (chat.status !== 'open') throw new ConflictError('the chat is closed');
          expected = Number(chat.lastSeq);
          this.remember(draft.chatId, expected);
        } else {
          // TransactionConflict or throttling inside the transaction: back off, re-read, retry.
          await sleep(Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
          expected = await this.readLastSeq(draft.chatId);
        }
      }
    }
    throw new BusyError();
  }

  async after(chatId: string, after: number, limit: number): Promise<{ items: Message[]; hasMore: boolean }> {
    const result = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': keys.chat(chatId).pk,
          ':from': keys.message(chatId, after + 1).sk,
          ':to': `${keys.MSG_PREFIX}~`,
        },
        Limit: limit + 1,
      }),
    );
    const items = (result.Items ?? []).map(toMessage);
    return { items: items.slice(0, limit), hasMore: items.length > limit };
  }

  async before(
    chatId: string,
    before: number,
    limit: number,
  ): Promise<{ items: Message[]; hasMore: boolean }> {
    const result = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': keys.chat(chatId).pk,
          ':from': keys.message(chatId, 1).sk,
          ':to': keys.message(chatId, Math.max(0, before - 1)).sk,
        },
        ScanIndexForward: false,
        Limit: limit + 1,
      }),
    );
    const items = (result.Items ?? []).map(toMessage);
    return { items: items.slice(0, limit).reverse(), hasMore: items.length > limit };
  }

  private transaction(message: Message, expected: number): TransactWriteCommand {
    const { tableName } = this.table;
    return new TransactWriteCommand({
      ReturnConsumedCapacity: 'TOTAL',
      TransactItems: [
        {
          Update: {
            TableName: tableName,
            Key: keys.chat(message.chatId),
            UpdateExpression: 'SET lastSeq = :seq, lastActivityAt = :at, gsi2sk = :activity',
            ConditionExpression: 'lastSeq = :expected AND #status = :open',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':seq': message.seq,
              ':expected': expected,
              ':at': message.createdAt,
              ':open': 'open',
              ':activity': keys.activitySort(message.createdAt, message.chatId),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Put: {
            TableName: tableName,
            Item: { ...keys.message(message.chatId, message.seq), entity: ENTITY.message, ...message },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
        {
          Put: {
            TableName: tableName,
            Item: {
              ...keys.idempotency(message.chatId, message.senderId, message.clientMessageId),
              entity: ENTITY.idempotency,
              seq: message.seq,
              messageId: message.messageId,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
      ],
    });
  }

  private async original(
    draft: MessageDraft,
    marshalled: Record<string, unknown> | undefined,
  ): Promise<Message> {
    const record = marshalled
      ? unmarshall(marshalled as never)
      : (
          await this.table.doc.send(
            new GetCommand({
              TableName: this.table.tableName,
              Key: keys.idempotency(draft.chatId, draft.senderId, draft.clientMessageId),
              ConsistentRead: true,
            }),
          )
        ).Item;
    const seq = Number(record?.seq);
    const found = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.message(draft.chatId, seq),
        ConsistentRead: true,
      }),
    );
    if (!found.Item) throw new BusyError('the original message is not readable yet, retry');
    return toMessage(found.Item);
  }

  private async readLastSeq(chatId: string): Promise<number> {
    const result = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.chat(chatId),
        ProjectionExpression: 'lastSeq',
        ConsistentRead: true,
      }),
    );
    if (!result.Item) throw new NotFoundError('chat');
    return Number(result.Item.lastSeq);
  }

  private remember(chatId: string, seq: number): void {
    if (this.seqHints.size >= HINTS_MAX && !this.seqHints.has(chatId)) {
      const oldest = this.seqHints.keys().next().value;
      if (oldest !== undefined) this.seqHints.delete(oldest);
    }
    this.seqHints.set(chatId, seq);
  }
}
