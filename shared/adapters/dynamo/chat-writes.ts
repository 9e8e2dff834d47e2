/**
 * Chat creation and chat changes (update, close, assign, membership, message edits, read receipts):
 * each one transaction that also writes the chat's event-log entry, its audit record and, for changes a
 * live chat list shows, the tenant's chat change log entry.
 */
import { GetCommand, TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import type { MetadataSlot } from '../../config/metadata-index.ts';
import { ENTITY } from '../../config/table.ts';
import { isListChange } from '../../domain/chat-list-feed.ts';
import { BusyError, ConflictError, NotFoundError } from '../../domain/errors.ts';
import type { AuditRecord, ChatChange, ChatEventRecord, Clock } from '../../domain/ports.ts';
import type { Chat, ChatRecord, Participant, Role } from '../../domain/schemas.ts';
import { backoff, failedConditions, type TableContext, transactWithRetry } from './client.ts';
import { membersAfter } from './chat-membership.ts';
import { auditItem, changeLogKeys, getChat, getChatForChange, participantItem } from './chat-records.ts';
import { keys } from './keys.ts';
import { deletionItem, messageEventLink } from './message-scrub.ts';
import { threadEntry } from './thread-store.ts';
import { chatItem, metadataIndexAttributes, slotAttributes } from './metadata-index.ts';

/** Creates the chat and its participants atomically. With `uniqueKey`, returns the existing chat instead. */
export const createChat = async (
  table: TableContext,
  slots: readonly MetadataSlot[],
  chat: ChatRecord,
  participants: Participant[],
  actor: { userId: string; role: Role },
  uniqueKey?: string,
  staffKeys: readonly string[] = [],
): Promise<{ chat: ChatRecord; created: boolean }> => {
  const audit: AuditRecord = {
    chatId: chat.chatId,
    tenantId: chat.tenantId,
    at: chat.createdAt,
    actorId: actor.userId,
    actorRole: actor.role,
    action: 'chat.create',
    after: {
      subject: chat.subject,
      metadata: chat.metadata,
      participants: participants.map((participant) => participant.userId),
    },
  };
  const { tableName } = table;
  const activity = keys.activitySort(chat.lastActivityAt, chat.chatId);
  const items = [
    {
      Put: {
        TableName: tableName,
        Item: { ...chatItem(chat, slots), ...(staffKeys.length > 0 ? { staffKeys: [...staffKeys] } : {}) },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    ...participants.map((participant) => ({
      Put: { TableName: tableName, Item: participantItem(chat, participant, activity) },
    })),
    { Put: { TableName: tableName, Item: auditItem(audit) } },
    {
      Put: {
        TableName: tableName,
        Item: {
          ...keys.chatCreated(chat.chatId),
          entity: ENTITY.chatCreated,
          tenantId: chat.tenantId,
          chatId: chat.chatId,
          at: chat.createdAt,
          data: chat,
          ...changeLogKeys(chat.tenantId, chat.createdAt, chat.chatId, 0),
        },
      },
    },
  ];
  // Keep the unique-set item last: its cancellation reason tells a duplicate apart.
  if (uniqueKey) {
    items.push({
      Put: {
        TableName: tableName,
        Item: {
          ...keys.uniqueChat(chat.tenantId, uniqueKey),
          entity: ENTITY.uniqueChat,
          chatId: chat.chatId,
        } as never,
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
  }
  try {
    // Two creates of one unique participant set race on the unique item: on DynamoDB the loser may be
    // cancelled with TransactionConflict rather than a failed condition; retried, it finds the winner's.
    await transactWithRetry(
      table,
      new TransactWriteCommand({ TransactItems: items }),
      'chats of these participants are being created too often, retry',
    );
    return { chat, created: true };
  } catch (error) {
    if (!uniqueKey || !failedConditions(error)?.at(-1)) throw error;
    const existing = await table.doc.send(
      new GetCommand({
        TableName: tableName,
        Key: keys.uniqueChat(chat.tenantId, uniqueKey),
        ConsistentRead: true,
      }),
    );
    const found = existing.Item ? await getChat(table, existing.Item.chatId as string) : undefined;
    if (!found) throw new NotFoundError('chat');
    return { chat: found, created: false };
  }
};

/**
 * Applies a change with its event-log entry and audit record in one transaction, optimistic on the
 * chat's lastEventSeq: after a conflict `change` is called again with the fresh chat. `clock` stamps the
 * change (`at`, `updatedAt`, the audit record's time).
 */
export const changeChat = async (
  table: TableContext,
  slots: readonly MetadataSlot[],
  clock: Clock,
  chatId: string,
  actor: { userId: string; role: Role },
  change: ChatChange,
): Promise<{ chat: ChatRecord; event: ChatEventRecord } | undefined> => {
  const { tableName } = table;
  for (let attempt = 0; attempt < 20; attempt++) {
    const read = await getChatForChange(table, chatId);
    if (!read) throw new NotFoundError('chat');
    const { chat: current, internals } = read;
    const planned = await change(current, internals);
    if (!planned) return undefined;
    const previous = current.lastEventSeq ?? 0;
    const eventSeq = previous + 1;
    const at = clock.now().toISOString();
    const fields: Record<string, unknown> = {
      ...planned.set,
      ...(planned.set || planned.participants ? { updatedAt: at } : {}),
      lastEventSeq: eventSeq,
    };
    const chat = { ...current, ...fields } as ChatRecord;
    for (const field of planned.unset ?? []) delete (chat as Partial<ChatRecord>)[field];
    // A metadata change rewrites the metadata GSIs' attributes and removes those of dropped keys.
    const dropped = [
      ...withMetadataIndex(slots, fields, chat, planned.set?.metadata !== undefined),
      ...(planned.unset ?? []).filter((field) => !(field in fields)),
    ];
    // Metadata ownership is kept on the chat item, never in the record (nor the events built from it).
    const stored: Record<string, unknown> = { ...fields };
    if (planned.staffKeys && planned.staffKeys.length > 0) stored.staffKeys = [...planned.staffKeys];
    else if (planned.staffKeys && internals.staffKeys.length > 0) dropped.push('staffKeys');
    // A removal moves the chat to a new membersVersion, in the same transaction as the participant items'
    // deletion: messages reserved from then on carry it, so no subscription authorized before it is
    // trusted for them without a participants read (shared/domain/delivery-scope.ts).
    if (planned.participants?.remove?.length) stored.membersVersion = internals.membersVersion + 1;
    const names = Object.fromEntries(Object.keys(stored).map((field, i) => [`#f${i}`, field]));
    const values = Object.fromEntries(Object.values(stored).map((value, i) => [`:f${i}`, value]));
    const removed = Object.fromEntries(dropped.map((field, i) => [`#r${i}`, field]));
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Update: {
          TableName: tableName,
          Key: keys.chat(chatId),
          UpdateExpression: `SET ${Object.keys(names)
            .map((name, i) => `${name} = :f${i}`)
            .join(', ')}${dropped.length > 0 ? ` REMOVE ${Object.keys(removed).join(', ')}` : ''}`,
          ConditionExpression:
            previous === 0
              ? 'attribute_not_exists(lastEventSeq) OR lastEventSeq = :prev'
              : 'lastEventSeq = :prev',
          ExpressionAttributeNames: { ...names, ...removed },
          ExpressionAttributeValues: { ...values, ':prev': previous },
        },
      },
    ];
    const activity = keys.activitySort(current.lastActivityAt, chatId);
    for (const participant of planned.participants?.add ?? []) {
      items.push({
        Put: {
          TableName: tableName,
          Item: participantItem(current, participant, activity, internals.membersVersion),
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      });
    }
    for (const userId of planned.participants?.remove ?? []) {
      items.push({
        Delete: {
          TableName: tableName,
          Key: keys.participant(chatId, userId),
          ConditionExpression: 'attribute_exists(pk)',
        },
      });
    }
    if (planned.message) {
      items.push({
        Put: {
          TableName: tableName,
          Item: {
            ...keys.message(chatId, planned.message.seq),
            entity: ENTITY.message,
            ...planned.message,
          },
          // Still the message that was read, and not deleted in the meantime.
          ConditionExpression: 'messageId = :mid AND attribute_not_exists(deletedAt)',
          ExpressionAttributeValues: { ':mid': planned.message.messageId },
        },
      });
    }
    if (planned.reply) {
      const { before, after, replySeq } = planned.reply;
      items.push(
        {
          Update: {
            TableName: tableName,
            Key: keys.message(chatId, before.seq),
            UpdateExpression: 'SET replyCount = :count, lastReplyAt = :last',
            // Still the parent that was read: not deleted, its count not moved by another reply.
            ConditionExpression:
              'messageId = :mid AND attribute_not_exists(deletedAt) AND ' +
              (before.replyCount ? 'replyCount = :before' : 'attribute_not_exists(replyCount)'),
            ExpressionAttributeValues: {
              ':count': after.replyCount,
              ':last': after.lastReplyAt,
              ':mid': before.messageId,
              ...(before.replyCount ? { ':before': before.replyCount } : {}),
            },
          },
        },
        {
          Put: {
            TableName: tableName,
            Item: threadEntry(chatId, before.seq, replySeq),
            // Counted once: a retried reply finds its entry.
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      );
    }
    if (planned.receipt) {
      const read = planned.receipt.readMentions ?? [];
      items.push({
        Update: {
          TableName: tableName,
          Key: keys.participant(chatId, planned.receipt.userId),
          // Mentions now read leave the unread ones.
          UpdateExpression: `SET lastReadSeq = :read${read.length > 0 ? ' DELETE mentionSeqs :mentions' : ''}`,
          // A read position only moves forward.
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastReadSeq) OR lastReadSeq < :read)',
          ExpressionAttributeValues: {
            ':read': planned.receipt.seq,
            ...(read.length > 0 ? { ':mentions': new Set(read) } : {}),
          },
        },
      });
    }
    const callerConditions = items.length - 1;
    if (planned.deletion && planned.message) {
      items.push({
        Put: {
          TableName: tableName,
          Item: deletionItem(chatId, planned.message.seq, planned.deletion.attachmentId),
        },
      });
    }
    const base = { chatId, tenantId: current.tenantId, eventSeq, at, actorId: actor.userId };
    const type = planned.event.type;
    let event: ChatEventRecord;
    if (type === 'message.updated' || type === 'message.deleted') {
      const message = planned.message ?? planned.reply?.after;
      if (!message) throw new Error(`${type} needs the message`);
      event = { ...base, type, data: message };
      // The event carries the message's text: linked, so deleting the message scrubs it (message-scrub.ts).
      if (type === 'message.updated') {
        items.push({ Put: { TableName: tableName, Item: messageEventLink(chatId, message.seq, eventSeq) } });
      }
    } else if (type === 'receipt') {
      if (!planned.receipt) throw new Error('receipt needs the read position');
      event = { ...base, type, data: { userId: planned.receipt.userId, seq: planned.receipt.seq } };
    } else {
      const data: Chat = planned.participants
        ? { ...chat, participants: await membersAfter(table, chatId, planned.participants) }
        : chat;
      const removed = planned.participants?.remove ?? [];
      event = { ...base, type, data, before: current, ...(removed.length > 0 ? { removed } : {}) };
    }
    items.push({
      Put: {
        TableName: tableName,
        Item: {
          ...keys.chatEvent(chatId, eventSeq),
          entity: ENTITY.chatEvent,
          ...event,
          // Changes a live chat list shows are also entries of the tenant's chat change log.
          ...(isListChange(event.type) ? changeLogKeys(current.tenantId, at, chatId, eventSeq) : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    });
    if (planned.audit) {
      items.push({
        Put: {
          TableName: tableName,
          Item: auditItem(
            {
              chatId,
              tenantId: current.tenantId,
              at,
              actorId: actor.userId,
              actorRole: actor.role,
              ...planned.audit,
            },
            eventSeq,
          ),
        },
      });
    }
    try {
      await table.doc.send(new TransactWriteCommand({ TransactItems: items }));
      return { chat, event };
    } catch (error) {
      const failed = failedConditions(error);
      if (!failed) throw error;
      // Membership, message, thread or read-position conditions that fail while the chat is unchanged
      // are the caller's conflict, not a race to retry (the chat item is first; the event and audit
      // items come after them). When the chat changed too, the change is planned again from fresh reads.
      if (!failed[0] && failed.slice(1, 1 + callerConditions).some(Boolean)) {
        throw new ConflictError('the participant or message changed meanwhile; reload and retry');
      }
      // Another change (or a concurrent message on the chat item) won: re-read and re-plan.
      await backoff(attempt, { maxMs: 200 });
    }
  }
  throw new BusyError('the chat is changing too often, retry');
};

/** Sets the metadata GSIs' attributes into `fields` when the metadata changes; returns those to remove. */
const withMetadataIndex = (
  slots: readonly MetadataSlot[],
  fields: Record<string, unknown>,
  chat: ChatRecord,
  changed: boolean,
): string[] => {
  if (!changed) return [];
  const attributes = metadataIndexAttributes(
    chat.tenantId,
    chat.chatId,
    chat.metadata,
    chat.lastActivityAt,
    slots,
  );
  Object.assign(fields, attributes);
  return slotAttributes(slots).filter((name) => attributes[name] === undefined);
};
