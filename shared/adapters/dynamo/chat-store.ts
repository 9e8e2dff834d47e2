/**
 * The ChatStore on the single table: one thin class over the chat modules, each holding one concern.
 * chat-writes.ts: creation and changes (with event log, audit and change log); chat-membership.ts:
 * participants, read state, unread, preferences; chat-history.ts: event log and audit trail;
 * chat-lists.ts with chat-filter-plan.ts: chat lists and filtered lists; chat-activity.ts: list
 * positions by activity; chat-records.ts: the items and their mapping to records; message-scrub.ts:
 * what a message deletion removes from the event log.
 */
import {
  DEFAULT_INDEXED_METADATA_KEYS,
  type MetadataSlot,
  metadataSlots,
} from '../../config/metadata-index.ts';
import {
  type AuditRecord,
  type ChatChange,
  type ChatEventRecord,
  type ChatStore,
  type Clock,
  type FilteredListRequest,
  type Page,
  systemClock,
} from '../../domain/ports.ts';
import type { ChatRecord, Participant, Role } from '../../domain/schemas.ts';
import { ChatActivity } from './chat-activity.ts';
import { auditTrail, eventsAfter, recordAudit } from './chat-history.ts';
import { listFiltered, listForParticipant, listForTenant } from './chat-lists.ts';
import {
  addMentions,
  chatAccess,
  chatsAccess,
  memberTenant,
  participants,
  readState,
  setPreferences,
  sharedChats,
  unreadOf,
} from './chat-membership.ts';
import { chatsById, getChat } from './chat-records.ts';
import { changeChat, createChat } from './chat-writes.ts';
import type { TableContext } from './client.ts';
import { scrubDeleted } from './message-scrub.ts';

export class DynamoChatStore implements ChatStore {
  readonly indexedMetadataKeys: readonly string[];
  private readonly slots: readonly MetadataSlot[];
  private readonly activity: ChatActivity;

  /** `indexedMetadataKeys`: the keys the table's metadata GSIs are built for (INDEXED_METADATA_KEYS). */
  constructor(
    private readonly table: TableContext,
    indexedMetadataKeys: readonly string[] = DEFAULT_INDEXED_METADATA_KEYS,
    /** Stamps each change (`at`, `updatedAt`, the audit record's time): the services' clock. */
    private readonly clock: Clock = systemClock,
  ) {
    this.indexedMetadataKeys = [...indexedMetadataKeys];
    this.slots = metadataSlots(this.indexedMetadataKeys);
    this.activity = new ChatActivity(table, this.slots);
  }

  create(
    chat: ChatRecord,
    participants: Participant[],
    actor: { userId: string; role: Role },
    uniqueKey?: string,
    staffKeys?: readonly string[],
  ): Promise<{ chat: ChatRecord; created: boolean }> {
    return createChat(this.table, this.slots, chat, participants, actor, uniqueKey, staffKeys);
  }

  scrubDeleted(
    chatId: string,
    seq: number,
    removeFile: (attachmentId: string) => Promise<void>,
  ): Promise<void> {
    return scrubDeleted(this.table, chatId, seq, removeFile);
  }

  change(
    chatId: string,
    actor: { userId: string; role: Role },
    change: ChatChange,
  ): Promise<{ chat: ChatRecord; event: ChatEventRecord } | undefined> {
    return changeChat(this.table, this.slots, this.clock, chatId, actor, change);
  }

  get(chatId: string, options?: { consistent?: boolean }): Promise<ChatRecord | undefined> {
    return getChat(this.table, chatId, options);
  }

  participants(chatId: string, options?: { consistent?: boolean }): Promise<Participant[]> {
    return participants(this.table, chatId, options);
  }

  access(chatId: string, userId?: string): ReturnType<ChatStore['access']> {
    return chatAccess(this.table, chatId, userId);
  }

  memberTenant(chatId: string, userId: string): Promise<string | undefined> {
    return memberTenant(this.table, chatId, userId);
  }

  accessAll(
    chatIds: readonly string[],
    userId?: string,
    options?: { vouch?: boolean },
  ): ReturnType<ChatStore['accessAll']> {
    return chatsAccess(this.table, chatIds, userId, options);
  }

  getAll(chatIds: readonly string[], options?: { consistent?: boolean }): Promise<ChatRecord[]> {
    return chatsById(this.table, chatIds, options);
  }

  sharedChats(tenantId: string, userA: string, userB: string, max: number): Promise<string[]> {
    return sharedChats(this.table, tenantId, userA, userB, max);
  }

  readState(chatId: string, userId: string): ReturnType<ChatStore['readState']> {
    return readState(this.table, chatId, userId);
  }

  unreadOf(tenantId: string, userId: string, max: number): ReturnType<ChatStore['unreadOf']> {
    return unreadOf(this.table, tenantId, userId, max);
  }

  addMentions(chatId: string, userIds: readonly string[], seq: number): Promise<void> {
    return addMentions(this.table, chatId, userIds, seq);
  }

  setPreferences(chatId: string, userId: string, preferences: { muted: boolean }): Promise<boolean> {
    return setPreferences(this.table, chatId, userId, preferences);
  }

  eventsAfter(
    chatId: string,
    afterEvent: number,
    limit: number,
  ): Promise<{ items: ChatEventRecord[]; hasMore: boolean }> {
    return eventsAfter(this.table, chatId, afterEvent, limit);
  }

  auditTrail(chatId: string, limit: number, cursor?: string): Promise<Page<AuditRecord>> {
    return auditTrail(this.table, chatId, limit, cursor);
  }

  recordAudit(audit: AuditRecord): Promise<void> {
    return recordAudit(this.table, audit);
  }

  listForParticipant(
    tenantId: string,
    userId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<ChatRecord>> {
    return listForParticipant(this.table, tenantId, userId, limit, cursor);
  }

  listForTenant(tenantId: string, limit: number, cursor?: string): Promise<Page<ChatRecord>> {
    return listForTenant(this.table, tenantId, limit, cursor);
  }

  listFiltered(request: FilteredListRequest): Promise<Page<ChatRecord>> {
    return listFiltered(this.table, this.slots, request);
  }

  touchActivity(chatId: string, lastActivityAt: string): Promise<void> {
    return this.activity.touch(chatId, lastActivityAt);
  }
}
