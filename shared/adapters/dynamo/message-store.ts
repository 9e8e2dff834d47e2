/**
 * Messages with a gap-free per-chat seq, appended in three single-item writes (no transaction, so 1 WCU
 * each for items up to 1 KB, and no optimistic race between concurrent senders):
 *   0. a retry is recognised first: a consistent read of the idempotency item
 *      CMID#<sender>#<clientMessageId> (read units, not write units);
 *   1. reserve: the chat item's `lastSeq` is incremented atomically (`ADD`, condition: chat open); the new
 *      value is this message's seq, whatever the number of concurrent senders, and the chat's
 *      `membersVersion` at that moment is stamped on the message (the fan-out's entitlement check,
 *      shared/domain/delivery-scope.ts);
 *   2. claim: the idempotency item is written with that seq (condition: absent);
 *   3. place: the message item MSG#<seq> (condition: absent).
 * A slot whose writer cannot finish is never left as a hole: it is filled with a *void* (a deleted
 * placeholder of kind `void`, shared/domain/voids.ts) — by the writer itself when a step fails or a
 * concurrent request with the same clientMessageId claimed first, and otherwise (a writer killed between
 * the steps) by the first reader that finds the hole older than VOID_AFTER_MS, well past any function's
 * timeout. A writer that finds its slot voided moves its message to a new seq. A retry that finds its
 * claim without a message places the message itself.
 */
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ENTITY } from '../../config/table.ts';
import { BusyError, ConflictError, NotFoundError } from '../../domain/errors.ts';
import { newMessageId } from '../../domain/ids.ts';
import {
  type AppendOptions,
  type Clock,
  type MessageDraft,
  type MessageStore,
  systemClock,
} from '../../domain/ports.ts';
import { type Message, SYSTEM_SENDER } from '../../domain/schemas.ts';
import { isVoid, VOID_KIND } from '../../domain/voids.ts';
import { membersVersionOf } from './chat-records.ts';
import { backoff, errorName, isConditionFailed, queryRange, type TableContext } from './client.ts';
import { keys } from './keys.ts';

/** A hole older than this (judged by the next message's createdAt) has no live writer: it is voided. */
export const VOID_AFTER_MS = 30_000;
/** Reservations tried while the chat item is locked by another transaction. */
const RESERVE_ATTEMPTS = 6;
/** Moves of one message to a new seq before giving up (each needs its slot voided by someone else). */
const MAX_MOVES = 5;

/** What an idempotency item says: the seq (and stamp) its request reserved. */
interface Claim {
  readonly seq: number;
  readonly createdAt: string;
}

/** A reserved slot: its claim, and the chat's membersVersion when it was reserved. */
interface Reservation extends Claim {
  readonly membersVersion: number;
}

/** The message of `draft` in the slot `claim` names. */
const inSlot = (draft: MessageDraft, claim: Claim): Message => ({
  ...draft,
  seq: claim.seq,
  createdAt: claim.createdAt,
  messageId: newMessageId(claim.seq),
});

export const toMessage = (item: Record<string, unknown>): Message => ({
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
  ...(item.replyTo ? { replyTo: item.replyTo as NonNullable<Message['replyTo']> } : {}),
  ...(Array.isArray(item.mentions) && item.mentions.length > 0
    ? { mentions: item.mentions as string[] }
    : {}),
  ...(typeof item.replyCount === 'number' && item.replyCount > 0
    ? { replyCount: item.replyCount, lastReplyAt: item.lastReplyAt as string }
    : {}),
});

/** An idempotency item, as read or as returned (marshalled) by a failed condition. */
const claimOf = (item: Record<string, unknown> | undefined): Claim | undefined => {
  if (!item) return undefined;
  const plain = typeof item.seq === 'object' ? unmarshall(item as never) : item;
  const seq = Number(plain.seq);
  return Number.isSafeInteger(seq) && seq > 0
    ? { seq, createdAt: typeof plain.createdAt === 'string' ? plain.createdAt : '' }
    : undefined;
};

/** The void that fills `seq` (deterministic, so concurrent fillers write the same item). */
const voidMessage = (owner: Pick<Message, 'chatId' | 'tenantId'>, seq: number, at: string): Message => ({
  messageId: `m_void00000000_${seq}`,
  chatId: owner.chatId,
  tenantId: owner.tenantId,
  seq,
  clientMessageId: `void.${seq}`,
  senderId: SYSTEM_SENDER,
  senderRole: 'service',
  type: 'system',
  text: '',
  system: { kind: VOID_KIND },
  createdAt: at,
  deletedAt: at,
  deletedBy: SYSTEM_SENDER,
});

const sameRequest = (a: Message, b: MessageDraft): boolean =>
  a.senderId === b.senderId && a.clientMessageId === b.clientMessageId;

export class DynamoMessageStore implements MessageStore {
  constructor(
    private readonly table: TableContext,
    private readonly clock: Clock = systemClock,
  ) {}

  async append(
    draft: MessageDraft,
    options: AppendOptions = {},
  ): Promise<{ message: Message; created: boolean }> {
    // Eventually consistent (half the read units): a claim written a moment ago that this read misses
    // is found by the claim step's condition, which answers with it, and the reserved seq is voided.
    const claimed = await this.readClaim(draft, { consistent: false });
    if (claimed) return { message: await this.settle(draft, claimed, options), created: false };
    const reserved = await this.reserve(draft.chatId);
    const message = inSlot(draft, reserved);
    try {
      await this.claim(message);
    } catch (error) {
      await this.voidSlot(draft, reserved.seq);
      if (!isConditionFailed(error)) throw error;
      // A concurrent request with the same clientMessageId claimed first: its message is the one.
      const winner = claimOf(error.Item) ?? (await this.readClaim(draft, { consistent: true }));
      if (!winner) throw new BusyError('the original message is not readable yet, retry');
      return { message: await this.settle(draft, winner, options), created: false };
    }
    return { message: await this.place(message, draft, options, reserved.membersVersion), created: true };
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

  async storedItems(chatId: string, from: number, to: number): Promise<Record<string, unknown>[]> {
    const { Items = [] } = await this.table.doc.send(
      new QueryCommand({
        TableName: this.table.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': keys.message(chatId, from).pk,
          ':from': keys.message(chatId, from).sk,
          ':to': keys.message(chatId, to).sk,
        },
        ConsistentRead: true,
      }),
    );
    return Items;
  }

  /**
   * Messages after `after`, ascending and contiguous: a page stops below a hole whose writer may still
   * be at work, and a hole older than VOID_AFTER_MS is voided on the way, so a reader never skips a seq.
   */
  async after(chatId: string, after: number, limit: number): Promise<{ items: Message[]; hasMore: boolean }> {
    const page = await queryRange(this.table, {
      pk: keys.chat(chatId).pk,
      from: keys.message(chatId, after + 1).sk,
      to: `${keys.MSG_PREFIX}~`,
      limit,
    });
    const items: Message[] = [];
    let expected = after + 1;
    for (const message of page.items.map(toMessage)) {
      if (message.seq > expected) {
        const filled = await this.fillHoles(message, expected);
        if (!filled) return { items, hasMore: false };
        items.push(...filled);
      }
      items.push(message);
      expected = message.seq + 1;
    }
    return { items: items.slice(0, limit), hasMore: page.hasMore || items.length > limit };
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

  /**
   * Step 1: the chat's next seq, by atomic increment, with the chat's membersVersion as of that increment
   * (the whole updated item comes back: no read units); 404 for no chat, 409 for a closed one.
   */
  private async reserve(chatId: string, attempt = 1): Promise<Reservation> {
    const createdAt = this.clock.now().toISOString();
    try {
      const { Attributes } = await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.chat(chatId),
          UpdateExpression: 'ADD lastSeq :one SET lastActivityAt = :at',
          ConditionExpression: '#status = :open',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':one': 1, ':at': createdAt, ':open': 'open' },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { seq: Number(Attributes?.lastSeq), createdAt, membersVersion: membersVersionOf(Attributes) };
    } catch (error) {
      // A change of the chat (close, assignment, receipt…) holds the item in a transaction for a moment.
      if (errorName(error) === 'TransactionConflictException' && attempt < RESERVE_ATTEMPTS) {
        await backoff(attempt);
        return this.reserve(chatId, attempt + 1);
      }
      if (!isConditionFailed(error)) throw error;
      if (!error.Item) throw new NotFoundError('chat');
      throw new ConflictError('the chat is closed');
    }
  }

  /** Step 2: this request's claim on its clientMessageId, pointing at the reserved seq. */
  private claim(message: Message): Promise<unknown> {
    return this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: {
          ...keys.idempotency(message.chatId, message.senderId, message.clientMessageId),
          entity: ENTITY.idempotency,
          seq: message.seq,
          messageId: message.messageId,
          createdAt: message.createdAt,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
  }

  /**
   * Step 3: writes the message into its slot. A slot already taken holds either this very message (a
   * concurrent retry placed it) or a void (this writer was presumed dead): then the message moves to a
   * new seq. Any other failure voids the slot, so nobody waits on it, and is rethrown: the client's retry
   * finds the claim and places the message at a new seq. `stamp`: the chat's membersVersion when the
   * slot was reserved (unknown for a slot reserved by an earlier attempt: the fan-out then reads the
   * participants).
   */
  private async place(
    message: Message,
    draft: MessageDraft,
    options: AppendOptions,
    stamp?: number,
  ): Promise<Message> {
    const via = options.viaConnectionId ? { viaConnectionId: options.viaConnectionId } : {};
    let current = message;
    let membersVersion = stamp;
    for (let move = 0; move <= MAX_MOVES; move++) {
      try {
        await this.table.doc.send(
          new PutCommand({
            TableName: this.table.tableName,
            Item: {
              ...keys.message(current.chatId, current.seq),
              entity: ENTITY.message,
              ...current,
              ...via,
              ...(membersVersion === undefined ? {} : { membersVersion }),
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return current;
      } catch (error) {
        if (!isConditionFailed(error)) {
          await this.voidSlot(draft, current.seq);
          throw error;
        }
      }
      const occupant = await this.get(current.chatId, current.seq);
      if (occupant && !isVoid(occupant) && sameRequest(occupant, draft)) return occupant;
      const moved = await this.move(draft, current.seq);
      if (moved.message) return moved.message;
      current = inSlot(draft, moved.claim);
      membersVersion = moved.membersVersion;
    }
    throw new BusyError('the message could not be placed, retry');
  }

  /**
   * A claimed request's message: the one in its slot; or, if the first attempt died before writing it,
   * this request's draft placed there; or, if the slot was voided, the draft at a new seq.
   */
  private async settle(draft: MessageDraft, claim: Claim, options: AppendOptions): Promise<Message> {
    const found = await this.get(draft.chatId, claim.seq);
    if (found && !isVoid(found) && sameRequest(found, draft)) return found;
    if (!found) {
      const createdAt = claim.createdAt || this.clock.now().toISOString();
      return this.place(inSlot(draft, { seq: claim.seq, createdAt }), draft, options);
    }
    const moved = await this.move(draft, claim.seq);
    return moved.message ?? this.place(inSlot(draft, moved.claim), draft, options, moved.membersVersion);
  }

  /**
   * Re-points the claim from a voided seq to a newly reserved one (condition: it still names the old
   * seq). If another attempt moved it first, this one's reservation is voided and that attempt's
   * message (or claim) is returned instead.
   */
  private async move(
    draft: MessageDraft,
    from: number,
  ): Promise<{ message?: Message; claim: Claim; membersVersion?: number }> {
    const reserved = await this.reserve(draft.chatId);
    try {
      await this.table.doc.send(
        new UpdateCommand({
          TableName: this.table.tableName,
          Key: keys.idempotency(draft.chatId, draft.senderId, draft.clientMessageId),
          UpdateExpression: 'SET seq = :seq, messageId = :mid, createdAt = :at',
          ConditionExpression: 'seq = :from',
          ExpressionAttributeValues: {
            ':seq': reserved.seq,
            ':mid': newMessageId(reserved.seq),
            ':at': reserved.createdAt,
            ':from': from,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { claim: reserved, membersVersion: reserved.membersVersion };
    } catch (error) {
      await this.voidSlot(draft, reserved.seq);
      if (!isConditionFailed(error)) throw error;
      const claim = claimOf(error.Item);
      if (!claim) throw new BusyError('the original message is not readable yet, retry');
      const found = await this.get(draft.chatId, claim.seq);
      return found && !isVoid(found) && sameRequest(found, draft) ? { message: found, claim } : { claim };
    }
  }

  /** Fills a slot nobody will write with a void; a slot already written keeps what it has. */
  private async voidSlot(owner: Pick<Message, 'chatId' | 'tenantId'>, seq: number): Promise<Message> {
    const filler = voidMessage(owner, seq, this.clock.now().toISOString());
    try {
      await this.table.doc.send(
        new PutCommand({
          TableName: this.table.tableName,
          Item: { ...keys.message(owner.chatId, seq), entity: ENTITY.message, ...filler },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return filler;
    } catch (error) {
      if (!isConditionFailed(error)) throw error;
      return (await this.get(owner.chatId, seq)) ?? filler;
    }
  }

  /**
   * The slots from `expected` up to `next.seq - 1`, if their writers are gone (the hole is older than
   * VOID_AFTER_MS): each is read back or voided. Undefined while a writer may still be at work.
   */
  private async fillHoles(next: Message, expected: number): Promise<Message[] | undefined> {
    if (this.clock.now().getTime() - Date.parse(next.createdAt) < VOID_AFTER_MS) return undefined;
    const filled: Message[] = [];
    for (let seq = expected; seq < next.seq; seq++) filled.push(await this.voidSlot(next, seq));
    return filled;
  }

  private async readClaim(draft: MessageDraft, options: { consistent: boolean }): Promise<Claim | undefined> {
    const { Item } = await this.table.doc.send(
      new GetCommand({
        TableName: this.table.tableName,
        Key: keys.idempotency(draft.chatId, draft.senderId, draft.clientMessageId),
        ConsistentRead: options.consistent,
      }),
    );
    return claimOf(Item);
  }
}
