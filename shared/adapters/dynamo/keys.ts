/** Key layout of the single table; docs/data-model.md is the access-pattern table for it. */
const SEQ_WIDTH = 12;
export const pad = (seq: number): string => seq.toString().padStart(SEQ_WIDTH, '0');

export const keys = {
  tenant: (tenantId: string) => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' }),
  chat: (chatId: string) => ({ pk: `CHAT#${chatId}`, sk: 'CHAT' }),
  participant: (chatId: string, userId: string) => ({ pk: `CHAT#${chatId}`, sk: `PART#${userId}` }),
  message: (chatId: string, seq: number) => ({ pk: `CHAT#${chatId}`, sk: `MSG#${pad(seq)}` }),
  idempotency: (chatId: string, senderId: string, clientMessageId: string) => ({
    pk: `CHAT#${chatId}`,
    sk: `CMID#${senderId}#${clientMessageId}`,
  }),
  chatSubscription: (chatId: string, connectionId: string) => ({
    pk: `CHAT#${chatId}`,
    sk: `SUB#${connectionId}`,
  }),
  connection: (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'CONN' }),
  connectionSubscription: (connectionId: string, chatId: string) => ({
    pk: `CONN#${connectionId}`,
    sk: `SUB#${chatId}`,
  }),
  ticket: (ticketHash: string) => ({ pk: `TICKET#${ticketHash}`, sk: 'TICKET' }),
  uniqueChat: (tenantId: string, uniqueKey: string) => ({
    pk: `UNIQUE#${tenantId}#${uniqueKey}`,
    sk: 'UNIQUE',
  }),
  rate: (key: string, window: number) => ({ pk: `RATE#${key}`, sk: `W#${window}` }),
  /** A per-identity quota's window (shared/domain/quotas.ts); `windowStart` in epoch seconds. */
  quota: (key: string, windowStart: number) => ({ pk: `QUOTA#${key}`, sk: `W#${windowStart}` }),
  /** An identity's long-poll leases in one lease period. */
  lease: (key: string, period: number) => ({ pk: `LEASE#${key}`, sk: `P#${period}` }),
  attachment: (attachmentId: string) => ({ pk: `ATT#${attachmentId}`, sk: 'ATT' }),
  /** A message's reactions (who reacted with which emoji), beside the chat's messages. */
  reactions: (chatId: string, seq: number) => ({ pk: `CHAT#${chatId}`, sk: `RX#${pad(seq)}` }),
  /** A reply's entry in its parent's thread. */
  threadReply: (chatId: string, parentSeq: number, replySeq: number) => ({
    pk: `CHAT#${chatId}`,
    sk: `THR#${pad(parentSeq)}#${pad(replySeq)}`,
  }),
  /** The last reaction change of a message, kept with the chat's typing state for pollers. */
  liveReaction: (tenantId: string, chatId: string, seq: number) => ({
    pk: `TYPING#${tenantId}#${chatId}`,
    sk: `RX#${pad(seq)}`,
  }),
  chatEvent: (chatId: string, eventSeq: number) => ({ pk: `CHAT#${chatId}`, sk: `EVT#${pad(eventSeq)}` }),
  /** A chat's creation record: `chat.created` in the tenant's chat change log (GSI byTenantChanges). */
  chatCreated: (chatId: string) => ({ pk: `CHAT#${chatId}`, sk: 'CREATED' }),
  /** GSI byTenantChanges: a tenant's chat creations and chat.updated / closed / assigned events. */
  tenantChanges: (tenantId: string) => `TCHG#${tenantId}`,
  changeSort: (at: string, chatId: string, eventSeq: number) => `${at}#${chatId}#${pad(eventSeq)}`,
  audit: (chatId: string, at: string, id: string) => ({ pk: `CHAT#${chatId}`, sk: `AUDIT#${at}#${id}` }),
  /** Blocks of one user (the blocker) in one tenant. */
  block: (tenantId: string, blockerId: string, blockedId: string) => ({
    pk: `BLOCKS#${tenantId}#${blockerId}`,
    sk: `BLOCKED#${blockedId}`,
  }),
  /** Who has blocked one user: a string set kept in the same transaction as each block and unblock. */
  blockers: (tenantId: string, userId: string) => ({ pk: `BLOCKS#${tenantId}#${userId}`, sk: 'BLOCKERS' }),
  /** Per-tenant counters (connections, open chats) and per-UTC-day message counts (GET /v1/stats). */
  presence: (tenantId: string, userId: string) => ({ pk: `PRESENCE#${tenantId}#${userId}`, sk: 'PRESENCE' }),
  /** The tenant of a presence item's pk (tenant ids and user ids never contain `#`). */
  presenceTenant: (pk: string): string | undefined => /^PRESENCE#([^#]+)#[^#]+$/.exec(pk)?.[1],
  /** A chat's typing state: one item per user and state; one Query of the partition reads the chat's. */
  typingChat: (tenantId: string, chatId: string) => `TYPING#${tenantId}#${chatId}`,
  typing: (tenantId: string, chatId: string, userId: string, isTyping: boolean) => ({
    pk: `TYPING#${tenantId}#${chatId}`,
    sk: `${userId}#${isTyping ? 'on' : 'off'}`,
  }),
  statsCounters: (tenantId: string) => ({ pk: `STATS#${tenantId}`, sk: 'COUNTERS' }),
  statsDay: (tenantId: string, day: string) => ({ pk: `STATS#${tenantId}`, sk: `DAY#${day}` }),
  BLOCKED_PREFIX: 'BLOCKED#',
  /** watchChats: one item per watching connection under its tenant, and a mirror under the connection. */
  watcher: (tenantId: string, connectionId: string) => ({
    pk: `WATCH#${tenantId}`,
    sk: `CONN#${connectionId}`,
  }),
  connectionWatch: (connectionId: string) => ({ pk: `CONN#${connectionId}`, sk: 'WATCH' }),
  EVT_PREFIX: 'EVT#',
  AUDIT_PREFIX: 'AUDIT#',
  /** GSI byParticipant: chats of one participant by last activity. */
  participantIndex: (tenantId: string, userId: string) => `PCHATS#${tenantId}#${userId}`,
  /** GSI byTenant: chats of one tenant by last activity. */
  tenantIndex: (tenantId: string) => `TCHATS#${tenantId}`,
  activitySort: (lastActivityAt: string, chatId: string) => `${lastActivityAt}#${chatId}`,
  MSG_PREFIX: 'MSG#',
  SUB_PREFIX: 'SUB#',
  PART_PREFIX: 'PART#',
} as const;
