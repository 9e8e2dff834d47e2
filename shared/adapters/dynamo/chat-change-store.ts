import { ENTITY, indexByName } from '../../config/table.ts';
import { chatCreatedEnvelope, isListChange } from '../../domain/chat-list-feed.ts';
import { chatEventEnvelope } from '../../domain/envelopes.ts';
import type { ChatEventRecord, ChatListChange, ChatListChangeStore } from '../../domain/ports.ts';
import { type ChatRecord, chatSchema } from '../../domain/schemas.ts';
import { queryAll, type TableContext } from './client.ts';
import { keys } from './keys.ts';

const byTenantChanges = indexByName('byTenantChanges');

/**
 * A tenant's chat change log: GSI `byTenantChanges` (projection ALL) over the chats' creation records
 * (`CHAT#<id> / CREATED`) and their chat.updated / chat.closed / chat.assigned event-log entries, which
 * DynamoChatStore writes in the same transaction as the change. Entries are never updated, so the
 * index costs one write per change; a read costs 0.5 RCU per 4 KB of entries (eventually consistent).
 */
export class DynamoChatChangeStore implements ChatListChangeStore {
  constructor(private readonly table: TableContext) {}

  async changesAfter(
    tenantId: string,
    position: string,
    limit: number,
  ): Promise<{ items: ChatListChange[]; hasMore: boolean }> {
    const items = await queryAll(
      this.table,
      {
        IndexName: byTenantChanges.indexName,
        KeyConditionExpression: '#pk = :pk AND #sk > :after',
        ExpressionAttributeNames: { '#pk': byTenantChanges.partitionKey, '#sk': byTenantChanges.sortKey },
        ExpressionAttributeValues: { ':pk': keys.tenantChanges(tenantId), ':after': position },
        ScanIndexForward: true,
        Limit: limit + 1,
      },
      limit + 1,
    );
    const changes = items.slice(0, limit).flatMap((item) => {
      const change = changeOf(item, item[byTenantChanges.sortKey]);
      return change ? [change] : [];
    });
    return { items: changes, hasMore: items.length > limit };
  }
}

/** An index item as the envelope watchers received for it (the fan-out builds the same ones). */
const changeOf = (item: Record<string, unknown>, position: unknown): ChatListChange | undefined => {
  if (typeof position !== 'string') return undefined;
  if (item.entity === ENTITY.chatCreated) {
    const chat = chatSchema.safeParse(item.data);
    return chat.success
      ? { position, envelope: chatCreatedEnvelope(chat.data), after: chat.data }
      : undefined;
  }
  if (item.entity === ENTITY.chatEvent && typeof item.type === 'string' && isListChange(item.type)) {
    const event = item as ChatEventRecord & { readonly data: ChatRecord; readonly before?: ChatRecord };
    return {
      position,
      envelope: chatEventEnvelope(event),
      after: event.data,
      ...(event.before ? { before: event.before } : {}),
    };
  }
  return undefined;
};
