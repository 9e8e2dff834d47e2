/**
 * The domain's view of the outside world: storage, object storage, the socket pusher and the visitor
 * token signer. Adapters live in shared/adapters (the signer in shared/auth); the domain never imports
 * the AWS SDK.
 */
import type { ChatFilter } from './chat-filter.ts';
import type { Identity } from './identity.ts';
import type {
  AttachmentRef,
  Block,
  Chat,
  ChatEventType,
  ChatRecord,
  Envelope,
  Message,
  Participant,
  Role,
  Tenant,
} from './schemas.ts';

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

/** One entry of a chat's event log: what subscribers and pollers receive as a non-message envelope. */
export type ChatEventRecord = {
  readonly chatId: string;
  readonly tenantId: string;
  readonly eventSeq: number;
  readonly at: string;
  readonly actorId: string;
} & (
  | {
      readonly type: 'chat.updated' | 'chat.closed' | 'chat.assigned';
      readonly data: Chat;
      /** The chat before the change (not sent to clients): lets watchers see a chat leave their filter. */
      readonly before?: ChatRecord;
      /** Participants the change removed (not sent to clients): the fan-out tells their sockets too. */
      readonly removed?: readonly string[];
    }
  | { readonly type: 'message.updated' | 'message.deleted'; readonly data: Message }
  | { readonly type: 'receipt'; readonly data: { readonly userId: string; readonly seq: number } }
);

/** Who did what to a chat, and when; before/after hold the changed fields only. */
export interface AuditRecord {
  readonly chatId: string;
  readonly tenantId: string;
  readonly at: string;
  readonly actorId: string;
  readonly actorRole: Role;
  readonly action: string;
  readonly before?: Record<string, unknown>;
  readonly after?: Record<string, unknown>;
}

/** What one change does: chat fields, membership or one message, plus its event and audit record. */
export interface PlannedChange {
  readonly set?: Partial<ChatRecord>;
  /** Optional chat fields removed by the change (reopening removes the closed session's rating). */
  readonly unset?: readonly ('closedAt' | 'rating' | 'feedback')[];
  readonly participants?: { readonly add?: readonly Participant[]; readonly remove?: readonly string[] };
  /** The message as it will be stored; written only if it is still the one read (same messageId, not deleted). */
  readonly message?: Message;
  /**
   * A participant's read position, moved forward only; `readMentions`: seqs of mentions of it now read,
   * no longer counted as unread mentions.
   */
  readonly receipt?: {
    readonly userId: string;
    readonly seq: number;
    readonly readMentions?: readonly number[];
  };
  readonly event: { readonly type: ChatEventType };
  /** Omitted only for changes not worth an audit record (read receipts). */
  readonly audit?: Pick<AuditRecord, 'action' | 'before' | 'after'>;
  /**
   * A reply counted in its parent's thread: the parent's `replyCount` and `lastReplyAt` move from the
   * parent as read (`before`) to `after`, and the reply's thread entry is written, both only once.
   */
  readonly reply?: { readonly before: Message; readonly after: Message; readonly replySeq: number };
  /**
   * The message (`message`) is being deleted: a record of what is left to remove — its earlier
   * `message.updated` events' text and attachment, and its attachment file — is kept with the change
   * until ChatStore.scrubDeleted has removed it all.
   */
  readonly deletion?: { readonly attachmentId?: string };
  /**
   * The top-level metadata keys agents and services own after this change (shared/domain/metadata-owners.ts);
   * unset: unchanged.
   */
  readonly staffKeys?: readonly string[];
}

/** What a change may know of a chat beyond its record (kept on the chat item, never shown to clients). */
export interface ChatInternals {
  /** The top-level metadata keys agents and services set (visitors and users may not change them). */
  readonly staffKeys: readonly string[];
  /** Participant removals so far (shared/adapters/dynamo/chat-records.ts `membersVersionOf`). */
  readonly membersVersion: number;
}

/**
 * A change a caller wants to make to the current chat, or undefined for none. It may read (a message it
 * changes): called after the chat is read, so what it reads is as fresh as the chat.
 */
export type ChatChange = (
  current: ChatRecord,
  internals: ChatInternals,
) => PlannedChange | undefined | Promise<PlannedChange | undefined>;

export interface FilteredListRequest {
  readonly tenantId: string;
  /** Only chats this user takes part in (users and visitors list their own chats). */
  readonly member?: string;
  /** The caller: when the list is read from the caller's own participant items, each chat gets its unread count. */
  readonly reader?: string;
  readonly filter: ChatFilter;
  readonly limit: number;
  readonly cursor?: string;
}

export interface ChatStore {
  /** The metadata keys its indexes answer (deploy-time configuration, INDEXED_METADATA_KEYS). */
  readonly indexedMetadataKeys: readonly string[];
  /**
   * Creates the chat and its participants atomically. With `uniqueKey`, returns the existing chat instead.
   * `staffKeys`: the metadata keys agents and services own from the start (ChatInternals).
   */
  create(
    chat: ChatRecord,
    participants: Participant[],
    actor: { userId: string; role: Role },
    uniqueKey?: string,
    staffKeys?: readonly string[],
  ): Promise<{ chat: ChatRecord; created: boolean }>;
  /**
   * Finishes a deletion (PlannedChange.deletion) of the message at `seq`: the text and attachment of its
   * earlier events go, `removeFile` removes its attachment, then the record of the deletion. Idempotent;
   * nothing to do when no deletion of that message is pending. Throws when a step fails (retry it).
   */
  scrubDeleted(
    chatId: string,
    seq: number,
    removeFile: (attachmentId: string) => Promise<void>,
  ): Promise<void>;
  /**
   * Applies a change with its event-log entry and audit record in one transaction (optimistic on the
   * chat's lastEventSeq; `change` is called again with the fresh chat after a conflict).
   */
  change(
    chatId: string,
    actor: { userId: string; role: Role },
    change: ChatChange,
  ): Promise<{ chat: ChatRecord; event: ChatEventRecord } | undefined>;
  /** Events with eventSeq > afterEvent, ascending. */
  eventsAfter(
    chatId: string,
    afterEvent: number,
    limit: number,
  ): Promise<{ items: ChatEventRecord[]; hasMore: boolean }>;
  /** Audit records, newest first. */
  auditTrail(chatId: string, limit: number, cursor?: string): Promise<Page<AuditRecord>>;
  /** Chats both users take part in (from their participant lists, at most `max` each). */
  sharedChats(tenantId: string, userA: string, userB: string, max: number): Promise<string[]>;
  /** An audit record for an action that is not itself a chat change (blocking). */
  recordAudit(audit: AuditRecord): Promise<void>;
  /** A participant's own settings; false when the user is not a participant. */
  setPreferences(chatId: string, userId: string, preferences: { muted: boolean }): Promise<boolean>;
  /**
   * The caller's read position in a chat and the seqs of messages mentioning it not yet read
   * (undefined when not a participant).
   */
  readState(
    chatId: string,
    userId: string,
  ): Promise<{ lastReadSeq: number; muted: boolean; mentionSeqs: number[] } | undefined>;
  /**
   * Every chat of a participant with its last seq, the participant's last read seq and the seqs of
   * messages mentioning it not yet read (bounded).
   */
  unreadOf(
    tenantId: string,
    userId: string,
    max: number,
  ): Promise<{ chatId: string; lastSeq: number; lastReadSeq: number; mentionSeqs: number[] }[]>;
  /** Counts message `seq` as mentioning each of `userIds` (participants only; idempotent). */
  addMentions(chatId: string, userIds: readonly string[], seq: number): Promise<void>;
  get(chatId: string, options?: { consistent?: boolean }): Promise<ChatRecord | undefined>;
  /** `consistent`: read after every committed membership change (the fan-out's participant check). */
  participants(chatId: string, options?: { consistent?: boolean }): Promise<Participant[]>;
  /**
   * What an access check reads (shared/domain/access.ts), consistently and in one request: the chat,
   * and whether `userId` takes part in it (without `userId`: the chat only, `member` false).
   */
  access(chatId: string, userId?: string): Promise<{ chat: ChatRecord | undefined; member: boolean }>;
  /**
   * The tenant of the chat `userId` takes part in, from their participant item alone (one consistent
   * read); undefined when they take no part in it (or it does not exist).
   */
  memberTenant(chatId: string, userId: string): Promise<string | undefined>;
  /**
   * `access` for several chats in one request, in the order of `chatIds`, with each chat's
   * membersVersion (its participant removals so far). `vouch`: a member took part at that
   * membersVersion (a second read of some participant items when one request cannot tell).
   */
  accessAll(
    chatIds: readonly string[],
    userId?: string,
    options?: { vouch?: boolean },
  ): Promise<{ chat: ChatRecord | undefined; member: boolean; membersVersion: number }[]>;
  /** The chats of `chatIds` that exist, in their order: one request. */
  getAll(chatIds: readonly string[], options?: { consistent?: boolean }): Promise<ChatRecord[]>;
  listForParticipant(
    tenantId: string,
    userId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<ChatRecord>>;
  listForTenant(tenantId: string, limit: number, cursor?: string): Promise<Page<ChatRecord>>;
  /** Chats matching a filter, read through one index, never a Scan (docs/data-model.md, "Metadata filters"). */
  listFiltered(request: FilteredListRequest): Promise<Page<ChatRecord>>;
  /** Moves the chat up the tenant's and its participants' lists (called off the hot path by the fan-out). */
  touchActivity(chatId: string, lastActivityAt: string): Promise<void>;
}

/** One entry of a tenant's chat change log. */
export interface ChatListChange {
  /** The entry's place in the log (its sort key): `<at>#<chatId>#<eventSeq>`. */
  readonly position: string;
  /** chat.created, chat.updated, chat.assigned or chat.closed, as pushed to watching sockets. */
  readonly envelope: Envelope;
  readonly after: ChatRecord;
  readonly before?: ChatRecord;
}

export interface ChatListChangeStore {
  /** The tenant's changes after `position`, oldest first: at most `limit`, and whether more may follow. */
  changesAfter(
    tenantId: string,
    position: string,
    limit: number,
  ): Promise<{ items: ChatListChange[]; hasMore: boolean }>;
}

export interface MessageDraft {
  readonly chatId: string;
  readonly tenantId: string;
  readonly clientMessageId: string;
  readonly senderId: string;
  readonly senderRole: Message['senderRole'];
  readonly type: Message['type'];
  readonly text: string;
  readonly attachment?: AttachmentRef;
  readonly senderName?: string;
  readonly system?: Message['system'];
  readonly replyTo?: Message['replyTo'];
  readonly mentions?: Message['mentions'];
}

/** How a message came in, kept on its item for the fan-out only (never part of the message itself). */
export interface AppendOptions {
  /**
   * The socket it was sent over: its ack carries the stored message, so the fan-out does not push the
   * same message back to that socket (docs/protocol.md, "Delivery").
   */
  readonly viaConnectionId?: string;
}

export interface MessageStore {
  /**
   * Assigns the chat's next seq and stores the message with its idempotency record; a seq whose message
   * cannot be written is filled with a void (shared/domain/voids.ts), so seqs stay gap-free. `createdAt`
   * is the time the seq was reserved. A retry with the same (sender, clientMessageId) returns the
   * original, `created: false`. 404 for a missing chat, 409 for a closed one.
   */
  append(draft: MessageDraft, options?: AppendOptions): Promise<{ message: Message; created: boolean }>;
  get(chatId: string, seq: number): Promise<Message | undefined>;
  /**
   * The stored items of the messages with `from <= seq <= to`, as the table's stream carries them (the
   * fan-out reads a hole below a message it is about to push), read consistently; seqs not written yet
   * are absent.
   */
  storedItems(chatId: string, from: number, to: number): Promise<Record<string, unknown>[]>;
  /** Messages with seq > after, ascending and contiguous (a page ends below a slot still being written). */
  after(chatId: string, after: number, limit: number): Promise<{ items: Message[]; hasMore: boolean }>;
  /** The `limit` messages right before `before`, ascending. */
  before(chatId: string, before: number, limit: number): Promise<{ items: Message[]; hasMore: boolean }>;
}

export interface ConnectionRecord {
  readonly connectionId: string;
  readonly identity: Identity;
  readonly connectedAt: string;
  readonly expiresAt: number;
}

export interface ConnectionStore {
  put(connection: ConnectionRecord): Promise<void>;
  get(connectionId: string): Promise<ConnectionRecord | undefined>;
  /**
   * Deletes the connection and every subscription it holds. Returns the connection item that this call
   * removed, or undefined when it was already gone (a second $disconnect, a 410 after a disconnect).
   */
  remove(
    connectionId: string,
    /**
     * The 410 path: only a connection that connected before this ISO time goes (items of one that has
     * no connection item go too); a younger one is kept and undefined returned.
     */
    options?: { readonly connectedBefore?: string },
  ): Promise<ConnectionRecord | undefined>;
  /**
   * `userId` and `role` (the connection's) are kept on the subscription: typing skips the sender's own
   * sockets, and the fan-out skips users who are no longer participants (shared/domain/delivery-scope.ts).
   * Resolves only once both items exist (503 `busy` when they cannot be written). `membersVersions`:
   * each chat's membersVersion the subscription was authorized at (`accessAll` with `vouch`), kept on
   * it so the fan-out skips the participants read for messages of that version.
   */
  subscribe(
    connectionId: string,
    chatIds: readonly string[],
    expiresAt: number,
    userId?: string,
    role?: Role,
    membersVersions?: ReadonlyMap<string, number>,
  ): Promise<void>;
  unsubscribe(connectionId: string, chatId: string): Promise<void>;
  /** Connection ids subscribed to a chat (a Query on the chat's partition, never a Scan). */
  subscribers(chatId: string): Promise<string[]>;
  /**
   * The same Query, with each subscription's userId, role and membersVersion (absent on subscriptions
   * written before they were kept).
   */
  subscriberUsers(
    chatId: string,
  ): Promise<{ connectionId: string; userId?: string; role?: Role; membersVersion?: number }[]>;
  /** watchChats: replaces the connection's filter (query-parameter form, as in GET /v1/chats). */
  watch(
    connectionId: string,
    tenantId: string,
    filter: Record<string, string>,
    expiresAt: number,
  ): Promise<void>;
  unwatch(connectionId: string, tenantId: string): Promise<void>;
  watchers(tenantId: string): Promise<{ connectionId: string; filter: Record<string, string> }[]>;
}

export interface TicketStore {
  put(ticketHash: string, identity: Identity, expiresAt: number): Promise<void>;
  /** Deletes the ticket if it exists and has not expired, returning its identity; atomically, once. */
  consume(ticketHash: string, nowEpochSeconds: number): Promise<Identity | undefined>;
}

export interface TenantStore {
  get(tenantId: string): Promise<Tenant | undefined>;
  put(tenant: Tenant): Promise<void>;
}

/** Signs and verifies visitor tokens (shared/auth/tokens.ts). */
export interface VisitorSigner {
  signVisitor(
    tenantId: string,
    visitorId: string,
    name?: string,
  ): Promise<{ token: string; expiresAt: Date }>;
  signVisitorRefresh(
    tenantId: string,
    visitorId: string,
    name?: string,
  ): Promise<{ token: string; expiresAt: Date }>;
  /** Throws UnauthorizedError (401) for anything but a valid, unexpired refresh token. */
  verifyVisitorRefresh(token: string): Promise<{ tenantId: string; visitorId: string; name?: string }>;
}

export interface RateLimiter {
  /** Counts one hit for `key` in the current window; false when the limit is already reached. */
  hit(key: string, limit: number, windowSeconds: number): Promise<boolean>;
}

export type PushResult = 'delivered' | 'gone';

export interface Pusher {
  /** Posts one frame to a connection; 'gone' when the connection no longer exists (410). Throws otherwise. */
  post(connectionId: string, payload: string): Promise<PushResult>;
  /**
   * Closes a connection (DELETE @connections/{id}): the client gets a close and `$disconnect` runs.
   * 'gone' when it no longer existed (410); throws otherwise.
   */
  disconnect(connectionId: string): Promise<'closed' | 'gone'>;
}

export interface BlockStore {
  /**
   * Records the block once; a repeat keeps the original `blockedAt` and reports `created: false`. A new
   * block past `maxBlocks` of the blocker's is refused (ConflictError, nothing written).
   */
  put(
    tenantId: string,
    blockerId: string,
    blockedId: string,
    at: string,
    maxBlocks?: number,
  ): Promise<{ block: Block; created: boolean }>;
  /** Idempotent: true when a block was removed, false when there was none. */
  remove(tenantId: string, blockerId: string, blockedId: string): Promise<boolean>;
  list(tenantId: string, blockerId: string, limit: number, cursor?: string): Promise<Page<Block>>;
  /**
   * Users of the tenant that have blocked `userId`, read consistently from one summary item kept in the
   * same transaction as each block and unblock. Empty for almost every sender: the send check's common
   * path is this one read. The summary holds a bounded number of blockers: past it, `overflow` is true
   * and `hasBlocked` answers for the others.
   */
  blockersOf(tenantId: string, userId: string): Promise<{ blockers: string[]; overflow: boolean }>;
  /** Whether any of `blockerIds` has blocked `userId` (reads their block items). */
  hasBlocked(tenantId: string, blockerIds: readonly string[], userId: string): Promise<boolean>;
}

export interface AttachmentRecord {
  readonly attachmentId: string;
  readonly tenantId: string;
  readonly chatId: string;
  readonly uploaderId: string;
  readonly fileName: string;
  readonly contentType: string;
  readonly declaredSize: number;
  readonly status: 'pending' | 'ready' | 'rejected';
  readonly createdAt: string;
  readonly size?: number;
  readonly kind?: AttachmentKind;
  readonly width?: number;
  readonly height?: number;
  /** Audio: the duration its container states. */
  readonly durationMs?: number;
  readonly rejectedReason?: string;
}

/** What an attachment was confirmed to be. */
export type AttachmentKind = 'file' | 'image' | 'audio';

/** What confirming an upload found. */
export interface ReadyDetails {
  readonly size: number;
  readonly kind: AttachmentKind;
  readonly width?: number;
  readonly height?: number;
  readonly durationMs?: number;
  readonly readyAt: string;
}

export interface AttachmentStore {
  /** A pending record that expires (TTL) unless the upload is confirmed. */
  put(record: AttachmentRecord, expiresAt: number): Promise<void>;
  get(attachmentId: string): Promise<AttachmentRecord | undefined>;
  /** pending → ready (clears the expiry); false when it was not pending. */
  markReady(attachmentId: string, details: ReadyDetails): Promise<boolean>;
  /** pending → rejected; false when it was not pending. */
  markRejected(attachmentId: string, reason: string): Promise<boolean>;
  /** Removes the record (its message was deleted): downloads answer 404 from then on. Idempotent. */
  remove(attachmentId: string): Promise<void>;
  /**
   * Binds a ready attachment to the one message that carries it (`claimant`: its sender and
   * clientMessageId). true for the first claim and for a repeat of the same one (a retried send); false
   * when another message has it.
   */
  claim(attachmentId: string, claimant: string): Promise<boolean>;
}

/** Object storage for attachment bytes (S3): presigned uploads and downloads, inspection, moves. */
export interface AttachmentStorage {
  createUpload(input: {
    key: string;
    contentType: string;
    size: number;
    maxBytes: number;
    expiresSeconds: number;
  }): Promise<{ url: string; fields: Record<string, string>; expiresAt: string }>;
  downloadUrl(input: {
    key: string;
    fileName: string;
    contentType: string;
    inline: boolean;
    expiresSeconds: number;
  }): Promise<string>;
  describe(key: string): Promise<{ size: number; contentType?: string } | undefined>;
  readStart(key: string, bytes: number): Promise<Uint8Array>;
  /** Bytes `start` to `end` (inclusive) of the object. */
  readRange(key: string, start: number, end: number): Promise<Uint8Array>;
  promote(fromKey: string, toKey: string): Promise<void>;
  remove(key: string): Promise<void>;
}

/** Per-tenant counters behind GET /v1/stats: DynamoDB `ADD` updates, never scans. */
export interface StatsCounters {
  readonly connections: number;
  /** Live connections whose role is agent (sockets: two tabs count twice). */
  readonly agentConnections: number;
  /** Distinct agents with at least one live socket (from presence transitions). */
  readonly agentsOnline: number;
  readonly openChats: number;
}

/**
 * A user's online/offline transition: what `presence` envelopes are built from (shared/domain/ephemeral.ts),
 * pushed to sockets and kept as the user's last transition for pollers.
 */
export interface PresenceTransition {
  readonly userId: string;
  readonly role: Role;
  readonly online: boolean;
  /** When the announcing handler saw the count move (0→1 or 1→0). */
  readonly at: string;
  /** Random, one per transition: envelope ids are built from it, so a socket and a poller see the same id. */
  readonly id: string;
}

/** Per-user live connection counts: several tabs count as one online user. */
export interface PresenceStore {
  /**
   * One more live connection of `transition.userId` (expiring at `expiresAt`, epoch seconds). True when
   * it took the user from offline to online; only then is `transition` stored, in the same atomic write.
   */
  open(
    tenantId: string,
    transition: PresenceTransition,
    expiresAt: number,
    connectionId: string,
  ): Promise<boolean>;
  /** One live connection fewer; true (and `transition` stored in the same write) when it was the last. */
  close(tenantId: string, transition: PresenceTransition, connectionId: string): Promise<boolean>;
  /** The live connections of each of these users that has any (one BatchGet per 100 users). */
  sockets(tenantId: string, userIds: readonly string[]): Promise<Map<string, string[]>>;
  /** Which of these users have at least one live connection. */
  online(tenantId: string, userIds: readonly string[]): Promise<Set<string>>;
  /** The last stored transition of each of these users that has one (one BatchGet per 100 users). */
  transitions(tenantId: string, userIds: readonly string[]): Promise<PresenceTransition[]>;
}

/**
 * A chat's typing state: one record per user and state (isTyping true / false) holding the last envelope
 * pushed, expiring shortly after it (TTL). One write per event, which is also its rate limit.
 */
export interface TypingStateStore {
  /**
   * Records the envelope as its user's current state of that kind unless the previous one was recorded
   * less than `intervalMs` before `envelope.at`: false then, and nothing changes.
   */
  record(envelope: Extract<Envelope, { type: 'typing' }>, intervalMs: number): Promise<boolean>;
  /**
   * The chat's records, one envelope per user and state, exactly as recorded (expired ones included),
   * and the last reaction change of each recently reacted message (ReactionStore.publish).
   */
  current(tenantId: string, chatId: string): Promise<Envelope[]>;
}

/** A message's reactions as stored: who reacted with each emoji (first reacted first). */
export interface ReactionRecord {
  readonly chatId: string;
  readonly tenantId: string;
  readonly seq: number;
  readonly messageId: string;
  readonly entries: readonly { readonly emoji: string; readonly users: readonly string[] }[];
  /** Grows by one with every change; 0 for a message nobody reacted to yet. */
  readonly version: number;
  /** The change that made this version. */
  readonly last?: {
    readonly userId: string;
    readonly emoji: string;
    readonly reacted: boolean;
    readonly at: string;
    /** The socket it came over, whose ack carried it: the fan-out does not push it there. */
    readonly viaConnectionId?: string;
  };
}

/** The message a reaction change is about. */
export interface ReactionTarget {
  readonly chatId: string;
  readonly tenantId: string;
  readonly seq: number;
  readonly messageId: string;
}

export interface ReactionStore {
  /**
   * Adds (`reacted`) or takes back `userId`'s `emoji` in one atomic write and returns the record after it;
   * `changed: false` (nothing written) when the user had (or had not) reacted so already, `'full'` when
   * a new emoji would make more than `maxDistinct` on the message.
   */
  change(
    target: ReactionTarget,
    change: NonNullable<ReactionRecord['last']>,
    maxDistinct: number,
  ): Promise<{ record: ReactionRecord; changed: boolean } | 'full'>;
  /** The reactions of the chat's messages with from ≤ seq ≤ to (one Query). */
  inRange(chatId: string, from: number, to: number): Promise<ReactionRecord[]>;
  /** The reactions of these messages (one BatchGet). */
  bySeqs(chatId: string, seqs: readonly number[]): Promise<ReactionRecord[]>;
  /** Keeps the change's envelope with the chat's typing state, where pollers read it (`since`). */
  publish(envelope: Extract<Envelope, { type: 'reaction' }>): Promise<void>;
}

export interface ThreadStore {
  /** The reply's entry in its parent's thread (idempotent). */
  mark(chatId: string, parentSeq: number, replySeq: number): Promise<void>;
  /** Whether the reply has its thread entry. */
  marked(chatId: string, parentSeq: number, replySeq: number): Promise<boolean>;
  /** Seqs of replies to `parentSeq` after `after`, ascending. */
  replySeqs(
    chatId: string,
    parentSeq: number,
    after: number,
    limit: number,
  ): Promise<{ items: number[]; hasMore: boolean }>;
  /** The messages of these seqs that exist (any order). */
  messages(chatId: string, seqs: readonly number[]): Promise<Message[]>;
  /** Which of these seqs hold deleted messages. */
  deletedAmong(chatId: string, seqs: readonly number[]): Promise<Set<number>>;
}

export interface StatsStore {
  /** One live connection more (delta 1) or less (-1), counted in total and for its role. */
  addConnection(tenantId: string, role: Role, delta: number): Promise<void>;
  /**
   * An agent's first socket opened (true) or last one closed (false): the agent's id joins or leaves the
   * tenant's set of agents online. A set, not a counter, so a repeated transition cannot make it drift.
   */
  setAgentOnline(tenantId: string, agentId: string, online: boolean): Promise<void>;
  addOpenChats(tenantId: string, delta: number): Promise<void>;
  /** Messages stored on a UTC day (`yyyy-mm-dd`). */
  addMessages(tenantId: string, day: string, count: number): Promise<void>;
  counters(tenantId: string): Promise<StatsCounters>;
  /** The counters and the messages of one UTC day, in one round trip. */
  snapshot(tenantId: string, day: string): Promise<StatsCounters & { readonly messages: number }>;
}

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };
