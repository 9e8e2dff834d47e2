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
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ENTITY } from '../../config/table.ts';
import { BusyError, ConflictError, NotFoundError } from '../../domain/errors.ts';
import { newMessageId } from '../../domain/ids.ts';
import { type Clock, type MessageDraft, type MessageStore, systemClock } from '../../domain/ports.ts';
import type { Message } from '../../domain/schemas.ts';
import { queryRange, type TableContext } from './client.ts';
import { keys } from './keys.ts';

const MAX_ATTEMPTS = 60;
const HINTS_MAX = 5000;

type Reason = { Code?: string; Item?: Record<string, unknown> };
/** What an append needs to know of its chat. */
type ChatHead = { lastSeq: number; lastActivityAt: string };
const headOf = (chat: Record<string, unknown>): ChatHead => ({
  lastSeq: Number(chat.lastSeq),
  lastActivityAt: typeof chat.lastActivityAt === 'string' ? chat.lastActivityAt : '',
});

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
  ...(item.attachment ? { attachment: item.attachment as Message['attachment'] } : {}),
  createdAt: item.createdAt as string,
  ...(item.senderName ? { senderName: item.senderName as string } : {}),
  ...(item.system ? { system: item.system as Message['system'] } : {}),
  ...(item.editedAt ? { editedAt: item.editedAt as string } : {}),
  ...(item.deletedAt ? { deletedAt: item.deletedAt as string, deletedBy: item.deletedBy as string } : {}),
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DynamoMessageStore implements MessageStore {
  /** The chat head last seen in this process: a guess that saves the read on a warm container. */
  private readonly heads = new Map<string, ChatHead>();

  /** Consumed capacity of the last append (for the benchmark). */
  lastConsumedCapacity = 0;

  constructor(
    private readonly table: TableContext,
    private readonly clock: Clock = systemClock,
  ) {}

  async append(draft: MessageDraft): Promise<{ message: Message; created: boolean }> {
    let head = this.heads.get(draft.chatId) ?? (await this.readHead(draft.chatId));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const seq = head.lastSeq + 1;
      // Stamped per attempt and never before the chat's last activity, so createdAt rises with seq.
      const now = this.clock.now().toISOString();
      const createdAt = now > head.lastActivityAt ? now : head.lastActivityAt;
      const message: Message = { ...draft, seq, messageId: newMessageId(seq), createdAt };
      try {
        const result = await this.table.doc.send(this.transaction(message, head.lastSeq));
        this.lastConsumedCapacity = (result.ConsumedCapacity ?? []).reduce(
          (sum, c) => sum + (c.CapacityUnits ?? 0),
          0,
        );
        this.remember(draft.chatId, { lastSeq: seq, lastActivityAt: createdAt });
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
          head = headOf(chat);
          this.remember(draft.chatId, head);
        } else {
          // TransactionConflict or throttling inside the transaction: back off, re-read, retry.
          await sleep(Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6)));
          head = await this.readHead(draft.chatId);
        }
      }
    }
    throw new BusyError();
  }

  async get(chatId: string, seq: number): Promise<Message | undefined> {
    const { Item: item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.message(chatId, seq),
        ConsistentRead: true,
      }),
    );
    return item ? toMessage(item) : undefined;
  }

  async after(chatId: string, after: number, limit: number): Promise<{ items: Message[]; hasMore: boolean }> {
    const page = await queryRange(this.table, {
      pk: keys.chat(chatId).pk,
      from: keys.message(chatId, after + 1).sk,
      to: `${keys.MSG_PREFIX}~`,
      limit,
    });
    return { items: page.items.map(toMessage), hasMore: page.hasMore };
  }

  async before(
    chatId: string,
    before: number,
    limit: number,
  ): Promise<{ items: Message[]; hasMore: boolean }> {
    const page = await queryRange(this.table, {
      pk: keys.chat(chatId).pk,
      from: keys.message(chatId, 1).sk,
      to: keys.message(chatId, Math.max(0, before - 1)).sk,
      limit,
      descending: true,
    });
    return { items: page.items.map(toMessage).reverse(), hasMore: page.hasMore };
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
            UpdateExpression: 'SET lastSeq = :seq, lastActivityAt = :at',
            ConditionExpression: 'lastSeq = :expected AND #status = :open AND lastActivityAt <= :at',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':seq': message.seq,
              ':expected': expected,
              ':at': message.createdAt,
              ':open': 'open',
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

  private async readHead(chatId: string): Promise<ChatHead> {
    const result = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.chat(chatId),
        ProjectionExpression: 'lastSeq, lastActivityAt',
        ConsistentRead: true,
      }),
    );
    if (!result.Item) throw new NotFoundError('chat');
    return headOf(result.Item);
  }

  private remember(chatId: string, head: ChatHead): void {
    if (this.heads.size >= HINTS_MAX && !this.heads.has(chatId)) {
      const oldest = this.heads.keys().next().value;
      if (oldest !== undefined) this.heads.delete(oldest);
    }
    this.heads.set(chatId, head);
  }
}
