/**
 * Chats and messages: creation, access checks, sending, history and the polling fallback. Every method
 * takes the verified identity; tenants never mix and a caller only reaches chats it may see.
 */
import { chatEventEnvelope, mentionEnvelope, messageCreated } from './envelopes.ts';
import { ACK_MESSAGES_MAX_BYTES, boundPage, jsonBytes, leadingWithin } from './envelope-size.ts';
import type { EphemeralFeed } from './ephemeral.ts';
import { type ChatFilter, isEmptyFilter, requireAnswerable } from './chat-filter.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from './errors.ts';
import { type Identity, isStaff } from './identity.ts';
import { newId, sha256 } from './ids.ts';
import { authorizeChat, authorizeSender, authorizeSubscription } from './access.ts';
import { assertRoomFor, Membership, type Subscriptions } from './membership.ts';
import { type DiscardFile, MessageChanges } from './message-changes.ts';
import { assertMayWriteMetadata, staffKeysAfter } from './metadata-owners.ts';
import type { MessageAnnotator } from './annotations.ts';
import type { ThreadService } from './threads.ts';
import { longPoll, type PollTimer, systemPollTimer } from './long-poll.ts';
import { nextPollDelay, POLL_PACE_DEFAULTS, type PollPace } from './poll-pace.ts';
import { attachmentRefFor } from './attachments.ts';
import { unreadCount } from './unread.ts';
import type {
  AppendOptions,
  AttachmentStore,
  AuditRecord,
  ChatStore,
  Clock,
  MessageStore,
  Page,
  PresenceStore,
} from './ports.ts';
import {
  type Chat,
  type ChatRecord,
  type CreateChatInput,
  type Envelope,
  type Message,
  type Participant,
  type PatchChatInput,
  type PresenceRead,
  type SendMessageInput,
  SYSTEM_SENDER,
  type SystemEventInput,
  type Unread,
} from './schemas.ts';

/** 400 unless every mentioned user takes part in the chat. */
const assertParticipants = (mentions: readonly string[], participants: readonly string[]): void => {
  const members = new Set(participants);
  const strangers = mentions.filter((userId) => !members.has(userId));
  if (strangers.length > 0) {
    throw new ValidationError(`mentions must name participants of the chat (not: ${strangers.join(', ')})`, [
      { path: 'mentions', message: `not participants: ${strangers.join(', ')}` },
    ]);
  }
};

/** At most this many messages ride on a subscribe ack (the rest: GET …/messages?after=). */
export const SUBSCRIBE_CATCH_UP_LIMIT = 50;

export interface SubscribeResult {
  readonly chat: ChatRecord;
  readonly lastSeq: number;
  readonly lastEventSeq: number;
  /** With `after`: the messages after it, ascending and contiguous. */
  readonly messages?: Message[];
  /** With `after`: messages up to `lastSeq` remain to be fetched. */
  readonly hasMore?: boolean;
}

export interface MessagePage {
  items: Message[];
  nextCursor?: string;
}

export class ChatService {
  constructor(
    private readonly chats: ChatStore,
    private readonly messages: MessageStore,
    private readonly attachments: AttachmentStore,
    private readonly clock: Clock,
    /** Refuses senders a participant has blocked (shared/domain/blocks.ts); absent: no block check. */
    private readonly blocks?: {
      assertMayMessage(identity: Identity, participantsOf: () => Promise<readonly string[]>): Promise<void>;
    },
    /** Who is online (several tabs count as one); absent: no `online` flags. */
    private readonly presence?: Pick<PresenceStore, 'online'>,
    /** Typing and presence for pollers (shared/domain/ephemeral.ts); absent: polls return neither. */
    private readonly ephemeral?: EphemeralFeed,
    /** What long polls wait by (shared/domain/long-poll.ts): the wall clock and a timer by default. */
    private readonly pollTimer: PollTimer = systemPollTimer,
    /**
     * Replies (shared/domain/threads.ts), what reads add to messages (reactions, masked quotes), and the
     * chats' subscriptions (a removed participant's are closed; absent: none closed).
     */
    private readonly conversation: {
      threads?: ThreadService;
      annotator?: MessageAnnotator;
      subscriptions?: Subscriptions;
    } = {},
  ) {
    this.membership = new Membership(chats, clock, conversation.subscriptions);
    this.messageChanges = new MessageChanges(chats, messages, clock);
  }

  private readonly membership: Membership;
  private readonly messageChanges: MessageChanges;

  async create(identity: Identity, input: CreateChatInput): Promise<{ chat: Chat; created: boolean }> {
    const others = [...new Set(input.participants ?? [])].filter((userId) => userId !== identity.userId);
    if (identity.role === 'visitor' && others.length > 0) {
      throw new ForbiddenError('visitors cannot add participants');
    }
    const now = this.clock.now().toISOString();
    const members: Participant[] = [
      ...(identity.role === 'service'
        ? []
        : [{ userId: identity.userId, role: identity.role, joinedAt: now }]),
      ...others.map((userId) => ({ userId, role: 'user' as const, joinedAt: now })),
    ];
    if (members.length === 0) throw new ValidationError('a chat needs at least one participant');
    assertRoomFor(0, members.length);
    const metadata = input.metadata ?? {};
    const record: ChatRecord = {
      chatId: newId('ch'),
      tenantId: identity.tenantId,
      ...(input.subject ? { subject: input.subject } : {}),
      metadata,
      status: 'open',
      createdBy: identity.userId,
      createdAt: now,
      updatedAt: now,
      lastActivityAt: now,
      lastSeq: 0,
    };
    const uniqueKey = input.unique
      ? sha256(
          members
            .map((member) => member.userId)
            .sort()
            .join('\n'),
        )
      : undefined;
    const staffKeys = staffKeysAfter(identity, [], {}, metadata);
    const { chat, created } = await this.chats.create(record, members, identity, uniqueKey, staffKeys);
    if (created) return { chat: { ...chat, participants: members }, created };
    // The existing chat of this participant set, to its participants and the tenant's staff only: a
    // caller removed from it since learns nothing, not even that it exists (404, as for any chat).
    const participants = await this.chats.participants(chat.chatId, { consistent: true });
    if (!isStaff(identity) && !participants.some((p) => p.userId === identity.userId)) {
      throw new NotFoundError('chat');
    }
    return { chat: { ...chat, participants }, created };
  }

  /** Returns the chat if the caller may see it: 404 across tenants, 403 for a non-member of the tenant. */
  authorize(identity: Identity, chatId: string): Promise<ChatRecord> {
    return authorizeChat(this.chats, identity, chatId);
  }

  /**
   * A socket's subscription to chats (one or up to SUBSCRIBE_MAX_CHATS, each read and written in one
   * request): the caller is authorized for every one, `store` writes the subscriptions, and only then are
   * the chats' positions read (consistently), so a message stored in between is either counted here or
   * pushed to the socket, never neither. With `after` (the last seq the client holds), the messages after
   * it come along — at most SUBSCRIBE_CATCH_UP_LIMIT per chat and ACK_MESSAGES_MAX_BYTES in all, the
   * chats in their order; `hasMore` says the client still fetches the rest with GET …/messages?after=.
   */
  async subscribe(
    identity: Identity,
    wanted: readonly { readonly chatId: string; readonly after?: number | undefined }[],
    store: (chatIds: string[], membersVersions: ReadonlyMap<string, number>) => Promise<void>,
  ): Promise<SubscribeResult[]> {
    const chatIds = wanted.map(({ chatId }) => chatId);
    const { chats, membersVersions } = await authorizeSubscription(this.chats, identity, chatIds);
    await store(chatIds, membersVersions);
    const current = new Map(
      (await this.chats.getAll(chatIds, { consistent: true })).map((chat) => [chat.chatId, chat]),
    );
    const positions = chatIds.map((chatId) => {
      const chat = current.get(chatId);
      if (!chat) throw new NotFoundError('chat');
      return { lastSeq: chat.lastSeq, lastEventSeq: chat.lastEventSeq ?? 0 };
    });
    const pages = await Promise.all(
      wanted.map(async ({ chatId, after }, index) => {
        const lastSeq = positions[index]?.lastSeq ?? 0;
        if (after === undefined || after >= lastSeq) return [];
        const page = await this.messages.after(
          chatId,
          after,
          Math.min(SUBSCRIBE_CATCH_UP_LIMIT, lastSeq - after),
        );
        return this.annotate(identity, chatId, page.items);
      }),
    );
    let room = ACK_MESSAGES_MAX_BYTES;
    return wanted.map(({ after }, index) => {
      const chat = chats[index] as ChatRecord;
      const { lastSeq, lastEventSeq } = positions[index] ?? { lastSeq: 0, lastEventSeq: 0 };
      if (after === undefined) return { chat, lastSeq, lastEventSeq };
      const messages = leadingWithin(pages[index] ?? [], room);
      for (const message of messages) room -= jsonBytes(message);
      const held = Math.max(after, messages.at(-1)?.seq ?? 0);
      return { chat, lastSeq, lastEventSeq, messages, hasMore: held < lastSeq };
    });
  }

  /** The chat's current last seq, read consistently (after a subscription is written). */
  async lastSeq(chatId: string): Promise<number> {
    return (await this.positions(chatId)).lastSeq;
  }

  /** The chat's last seq and last event seq (0 when none), from one consistent read. */
  async positions(chatId: string): Promise<{ lastSeq: number; lastEventSeq: number }> {
    const chat = await this.chats.get(chatId, { consistent: true });
    if (!chat) throw new NotFoundError('chat');
    return { lastSeq: chat.lastSeq, lastEventSeq: chat.lastEventSeq ?? 0 };
  }

  /** The chat with its participants and, for a participant, the caller's preferences and unread count. */
  async get(identity: Identity, chatId: string): Promise<Chat> {
    const chat = await this.authorize(identity, chatId);
    const members = await this.chats.participants(chatId);
    const [own, online] = await Promise.all([
      members.some((p) => p.userId === identity.userId)
        ? this.chats.readState(chatId, identity.userId)
        : Promise.resolve(undefined),
      this.presence?.online(
        identity.tenantId,
        members.map((p) => p.userId),
      ),
    ]);
    const participants = online ? members.map((p) => ({ ...p, online: online.has(p.userId) })) : members;
    return {
      ...chat,
      participants,
      ...(own
        ? {
            preferences: { muted: own.muted },
            lastReadSeq: own.lastReadSeq,
            unread: unreadCount(chat.lastSeq, own.lastReadSeq),
          }
        : {}),
    };
  }

  /**
   * Agents and services: whether each user has a live socket (several tabs count as one), for list
   * views of many chats at once — one BatchGet of the users' presence items.
   */
  async presenceOf(identity: Identity, userIds: readonly string[]): Promise<PresenceRead> {
    if (!isStaff(identity)) throw new ForbiddenError('presence of other users is for agents and services');
    const online = (await this.presence?.online(identity.tenantId, userIds)) ?? new Set<string>();
    return { items: userIds.map((userId) => ({ userId, online: online.has(userId) })) };
  }

  /**
   * A participant's read receipt: the read position only moves forward (an older seq changes nothing)
   * and each move is a `receipt` in the event log, so sockets and pollers see it.
   */
  async markRead(
    identity: Identity,
    chatId: string,
    seq: number,
  ): Promise<{ lastReadSeq: number; unread: number }> {
    const chat = await this.authorize(identity, chatId);
    if (seq > chat.lastSeq)
      throw new ValidationError(`seq must be at most the chat's last seq (${chat.lastSeq})`);
    const state = await this.chats.readState(chatId, identity.userId);
    if (!state) throw new ForbiddenError('read receipts belong to participants of the chat');
    if (seq > state.lastReadSeq) {
      const readMentions = state.mentionSeqs.filter((mentioned) => mentioned <= seq);
      try {
        await this.chats.change(chatId, identity, () => ({
          receipt: { userId: identity.userId, seq, ...(readMentions.length > 0 ? { readMentions } : {}) },
          event: { type: 'receipt' },
        }));
      } catch (error) {
        // A concurrent receipt already moved further: nothing to do.
        if (!(error instanceof ConflictError)) throw error;
      }
    }
    const lastReadSeq = Math.max(seq, state.lastReadSeq);
    return { lastReadSeq, unread: unreadCount(chat.lastSeq, lastReadSeq) };
  }

  /**
   * Unread messages per chat of the caller and in total, and how many of them mention the caller
   * (bounded to the caller's 1,000 newest chats).
   */
  async unread(identity: Identity): Promise<Unread> {
    const rows = await this.chats.unreadOf(identity.tenantId, identity.userId, 1000);
    const chats = rows
      .map((row) => ({
        chatId: row.chatId,
        unread: unreadCount(row.lastSeq, row.lastReadSeq),
        mentions: row.mentionSeqs.filter((seq) => seq > row.lastReadSeq && seq <= row.lastSeq).length,
      }))
      .filter((row) => row.unread > 0);
    return {
      total: chats.reduce((sum, row) => sum + row.unread, 0),
      mentions: chats.reduce((sum, row) => sum + row.mentions, 0),
      chats,
    };
  }

  /** Agents, services and the creator add participants (shared/domain/membership.ts). */
  addParticipant(identity: Identity, chatId: string, userId: string): Promise<Chat> {
    return this.membership.add(identity, chatId, userId);
  }

  /** Removes a participant (or the caller leaves) and closes its subscriptions (shared/domain/membership.ts). */
  removeParticipant(identity: Identity, chatId: string, userId: string): Promise<Chat> {
    return this.membership.remove(identity, chatId, userId);
  }

  /**
   * Assign the chat to an agent (agents and services): `chat.assigned`, an audit record, the agent
   * joins as a participant, and a system message "<agent> joined" appears in the chat.
   */
  async assign(identity: Identity, chatId: string, agentId: string): Promise<Chat> {
    if (!isStaff(identity)) throw new ForbiddenError('only agents and services assign chats');
    const current = await this.authorize(identity, chatId);
    if (current.status === 'closed') throw new ConflictError('the chat is closed; reopen it first');
    let participants = await this.chats.participants(chatId);
    const at = this.clock.now().toISOString();
    const result = await this.chats.change(chatId, identity, async (chat) => {
      if (chat.assignee === agentId) return undefined;
      // Read in the change (optimistic on the chat), so the cap holds against concurrent adds.
      participants = await this.chats.participants(chatId, { consistent: true });
      const joined = participants.some((p) => p.userId === agentId);
      if (!joined) assertRoomFor(participants.length, 1);
      return {
        set: { assignee: agentId, assignedAt: at },
        ...(joined
          ? {}
          : { participants: { add: [{ userId: agentId, role: 'agent' as const, joinedAt: at }] } }),
        event: { type: 'chat.assigned' },
        audit: {
          action: 'chat.assign',
          before: { assignee: chat.assignee ?? null },
          after: { assignee: agentId },
        },
      };
    });
    if (!result) return { ...current, participants };
    await this.messages.append({
      chatId,
      tenantId: identity.tenantId,
      clientMessageId: `assigned-${result.event.eventSeq}`,
      senderId: SYSTEM_SENDER,
      senderRole: 'service',
      senderName: 'System',
      type: 'system',
      text: `${agentId} joined`,
      system: { kind: 'agent.joined', data: { agentId, assignedBy: identity.userId } },
    });
    return result.event.data as Chat;
  }

  /**
   * A service reports an event of its own (payment initiated, dispute created, job updated) as a
   * `system` message, posted under the service's name; `clientMessageId` makes retries safe.
   */
  async systemEvent(
    identity: Identity,
    chatId: string,
    input: SystemEventInput,
  ): Promise<{ message: Message; created: boolean }> {
    if (identity.role !== 'service') throw new ForbiddenError('system events come from services');
    await this.authorize(identity, chatId);
    return this.messages.append({
      chatId,
      tenantId: identity.tenantId,
      clientMessageId: input.clientMessageId ?? newId('sys'),
      senderId: identity.userId,
      senderRole: 'service',
      senderName: identity.name ?? identity.userId,
      type: 'system',
      text: input.text,
      system: { kind: input.kind, ...(input.data ? { data: input.data } : {}) },
    });
  }

  /** The caller's own notification settings for a chat it takes part in. */
  async setPreferences(identity: Identity, chatId: string, preferences: { muted: boolean }): Promise<Chat> {
    await this.authorize(identity, chatId);
    if (!(await this.chats.setPreferences(chatId, identity.userId, preferences))) {
      throw new ForbiddenError('preferences belong to participants of the chat');
    }
    return this.get(identity, chatId);
  }

  /** Edit the text of one's own message (shared/domain/message-changes.ts). */
  editMessage(identity: Identity, chatId: string, messageId: string, text: string): Promise<Message> {
    return this.messageChanges.edit(identity, chatId, messageId, text);
  }

  /**
   * Soft-delete a message, scrub its earlier events and remove its file with `discardFile`
   * (shared/domain/message-changes.ts).
   */
  deleteMessage(
    identity: Identity,
    chatId: string,
    messageId: string,
    discardFile?: DiscardFile,
  ): Promise<Message> {
    return this.messageChanges.delete(identity, chatId, messageId, discardFile);
  }

  /**
   * The caller's chats (staff: the tenant's), newest activity first; with a filter, only the matching
   * ones (400 when neither an indexed metadata key nor a standard field narrows the filter).
   */
  async list(
    identity: Identity,
    limit: number,
    cursor?: string,
    filter?: ChatFilter,
  ): Promise<Page<ChatRecord>> {
    if (filter && !isEmptyFilter(filter)) {
      requireAnswerable(filter, this.chats.indexedMetadataKeys);
      return this.chats.listFiltered({
        tenantId: identity.tenantId,
        ...(isStaff(identity) ? {} : { member: identity.userId }),
        reader: identity.userId,
        filter,
        limit,
        ...(cursor ? { cursor } : {}),
      });
    }
    return isStaff(identity)
      ? this.chats.listForTenant(identity.tenantId, limit, cursor)
      : this.chats.listForParticipant(identity.tenantId, identity.userId, limit, cursor);
  }

  /** `options.viaConnectionId`: the socket it came over, which its ack answers (no echo of it there). */
  async send(
    identity: Identity,
    chatId: string,
    input: SendMessageInput,
    options: AppendOptions = {},
  ): Promise<{ message: Message; created: boolean }> {
    // The block check's read runs alongside the access check; the chat's participants are read only
    // when somebody has blocked the sender or the message mentions someone, and only once the caller
    // may see the chat.
    const authorized = authorizeSender(this.chats, identity, chatId);
    let members: Promise<string[]> | undefined;
    const participantIds = () =>
      (members ??= authorized.then(async () =>
        (await this.chats.participants(chatId)).map((participant) => participant.userId),
      ));
    const mentions = [...new Set(input.mentions ?? [])];
    await Promise.all([
      authorized,
      this.blocks?.assertMayMessage(identity, participantIds),
      mentions.length > 0 ? participantIds().then((ids) => assertParticipants(mentions, ids)) : undefined,
    ]);
    const { threads } = this.conversation;
    if (input.replyTo && !threads) throw new ValidationError('replies are not available here');
    const [attachment, replyTo] = await Promise.all([
      input.type === 'file'
        ? this.attachments
            .get(input.attachmentId ?? '')
            .then((found) => attachmentRefFor(found, chatId))
            .then(async (ref) => {
              // One attachment, one message: deleting that message deletes the file (message-changes.ts).
              const claimant = `${identity.userId}#${input.clientMessageId}`;
              if (!(await this.attachments.claim(ref.attachmentId, claimant))) {
                throw new ConflictError(
                  'the attachment is already sent in another message; upload the file again',
                );
              }
              return ref;
            })
        : undefined,
      input.replyTo ? threads?.quoteFor(chatId, input.replyTo) : undefined,
    ]);
    const result = await this.messages.append(
      {
        chatId,
        tenantId: identity.tenantId,
        clientMessageId: input.clientMessageId,
        senderId: identity.userId,
        senderRole: identity.role,
        type: input.type,
        text: input.text ?? '',
        ...(attachment ? { attachment } : {}),
        ...(replyTo ? { replyTo } : {}),
        ...(mentions.length > 0 ? { mentions } : {}),
        // A service posts as a named bot (the token's `name`).
        ...(identity.role === 'service' ? { senderName: identity.name ?? identity.userId } : {}),
      },
      options,
    );
    if (result.message.replyTo) await threads?.count(identity, result.message, !result.created);
    return result;
  }

  /** `after` (default 0) pages forward; `before` pages backward. Both return ascending seq. */
  async history(
    identity: Identity,
    chatId: string,
    query: { after?: number; before?: number; limit: number },
  ): Promise<MessagePage> {
    await this.authorize(identity, chatId);
    if (query.before !== undefined) {
      const page = await this.messages.before(chatId, query.before, query.limit);
      const first = page.items[0];
      const items = await this.annotate(identity, chatId, page.items);
      return { items, ...(page.hasMore && first ? { nextCursor: String(first.seq) } : {}) };
    }
    const page = await this.messages.after(chatId, query.after ?? 0, query.limit);
    const last = page.items.at(-1);
    const items = await this.annotate(identity, chatId, page.items);
    return { items, ...(page.hasMore && last ? { nextCursor: String(last.seq) } : {}) };
  }

  /** A thread: the replies to a message, ascending seq (shared/domain/threads.ts). */
  async replies(
    identity: Identity,
    chatId: string,
    messageId: string,
    query: { after?: number; limit: number },
  ): Promise<MessagePage> {
    const { threads } = this.conversation;
    if (!threads) throw new NotFoundError('thread');
    const page = await threads.replies(identity, chatId, messageId, query);
    const items = await this.annotate(identity, chatId, page.items, { quotes: false });
    const last = items.at(-1);
    return { items, ...(page.hasMore && last ? { nextCursor: String(last.seq) } : {}) };
  }

  /** Messages as the caller reads them: its view of their reactions, quotes of deleted messages masked. */
  private annotate(
    identity: Identity,
    chatId: string,
    messages: Message[],
    options?: { quotes?: boolean },
  ): Promise<Message[]> {
    const { annotator } = this.conversation;
    return annotator && messages.length > 0
      ? annotator.annotate(identity.userId, chatId, messages, options)
      : Promise.resolve(messages);
  }

  /**
   * Polling fallback: the envelopes a socket subscriber would have received after `after` (messages),
   * `afterEvent` (the event log) and `since` (typing and presence, not history: see ephemeral.ts). With
   * `waitSeconds` it long-polls (re-querying at `intervalMs`) until something arrives, time is up or
   * `signal` aborts (shared/domain/long-poll.ts).
   */
  async events(
    identity: Identity,
    chatId: string,
    query: { after: number; afterEvent: number; waitSeconds: number; limit: number; since?: string },
    intervalMs: number,
    pace: PollPace = POLL_PACE_DEFAULTS,
    signal?: AbortSignal,
  ): Promise<{
    items: Envelope[];
    nextAfter: number;
    nextAfterEvent: number;
    hasMore: boolean;
    nextSince?: string;
    nextPollMs: number;
  }> {
    const chat = await this.authorize(identity, chatId);
    const nextPollMs = nextPollDelay(chat.lastActivityAt, this.clock.now(), pace);
    const ephemeral = this.ephemeral?.reader(identity, chatId, query.since);
    // The chat item just read says whether anything is past the caller's positions: a quiet chat's
    // first round skips the message and event queries (a later round of a long poll reads them).
    let quiet = chat.lastSeq <= query.after && (chat.lastEventSeq ?? 0) <= query.afterEvent;
    const nothing = { items: [], hasMore: false };
    const { messages, events, live } = await longPoll(this.pollTimer, {
      read: async () => {
        const [messages, events, live] = await Promise.all([
          quiet ? nothing : this.messages.after(chatId, query.after, query.limit),
          quiet ? nothing : this.chats.eventsAfter(chatId, query.afterEvent, query.limit),
          ephemeral?.read(),
        ]);
        quiet = false;
        return { messages, events, live };
      },
      found: (round) =>
        round.messages.items.length + round.events.items.length + (round.live?.items.length ?? 0) > 0,
      waitMs: query.waitSeconds * 1000,
      intervalMs,
      signal,
    });
    const shown = await this.annotate(identity, chatId, messages.items);
    const items = [
      ...shown.map(messageCreated),
      // A poller mentioned by a message gets its `mention` envelope too, as its sockets would.
      ...shown
        .filter(
          (message) => message.senderId !== identity.userId && message.mentions?.includes(identity.userId),
        )
        .map((message) => mentionEnvelope(message, identity.userId)),
      ...events.items.map(chatEventEnvelope),
      ...(live?.items ?? []),
    ].sort((a, b) => a.at.localeCompare(b.at));
    // At most POLL_MAX_BYTES of envelopes (the 6 MB Lambda response limit): the rest on the next poll.
    return boundPage({
      items,
      nextAfter: messages.items.at(-1)?.seq ?? query.after,
      nextAfterEvent: events.items.at(-1)?.eventSeq ?? query.afterEvent,
      hasMore: messages.hasMore || events.hasMore,
      ...(live ? { nextSince: live.nextSince } : {}),
      nextPollMs,
    });
  }

  /**
   * PATCH: subject and metadata by agents, services or the chat's creator; status (close with an
   * optional rating and feedback, or reopen) by any participant. Each change is one event
   * (`chat.updated` or `chat.closed`) and one audit record; a patch that changes nothing writes nothing.
   */
  async update(identity: Identity, chatId: string, patch: PatchChatInput): Promise<Chat> {
    const current = await this.authorize(identity, chatId);
    if ((patch.subject !== undefined || patch.metadata !== undefined) && !isStaff(identity)) {
      if (current.createdBy !== identity.userId) {
        throw new ForbiddenError(
          'only agents, services or the chat’s creator change its subject or metadata',
        );
      }
    }
    const result = await this.chats.change(chatId, identity, (chat, { staffKeys }) => {
      // Keys agents and services set stay theirs (shared/domain/metadata-owners.ts).
      if (patch.metadata !== undefined) {
        assertMayWriteMetadata(identity, staffKeys, chat.metadata, patch.metadata);
      }
      const before: Record<string, unknown> = {};
      const after: Record<string, unknown> = {};
      const set: Record<string, unknown> = {};
      for (const field of ['subject', 'metadata', 'status', 'rating', 'feedback'] as const) {
        const value = patch[field];
        if (value === undefined || JSON.stringify(value) === JSON.stringify(chat[field])) continue;
        before[field] = chat[field] ?? null;
        after[field] = value;
        set[field] = value;
      }
      if (Object.keys(set).length === 0) return undefined;
      const owners = set.metadata
        ? staffKeysAfter(identity, staffKeys, chat.metadata, patch.metadata ?? {})
        : staffKeys;
      if (set.status === 'closed') set.closedAt = this.clock.now().toISOString();
      // Reopening starts a new session: the closed one's time, rating and feedback stay in the audit.
      const unset =
        set.status === 'open'
          ? (['closedAt', 'rating', 'feedback'] as const).filter(
              (field) => chat[field] !== undefined && set[field] === undefined,
            )
          : [];
      for (const field of unset) {
        before[field] = chat[field];
        after[field] = null;
      }
      const action =
        set.status === 'closed' ? 'chat.close' : set.status === 'open' ? 'chat.reopen' : 'chat.update';
      return {
        set: set as Partial<ChatRecord>,
        ...(unset.length > 0 ? { unset } : {}),
        ...(owners.join('\n') === staffKeys.join('\n') ? {} : { staffKeys: owners }),
        event: { type: set.status === 'closed' ? 'chat.closed' : 'chat.updated' },
        audit: { action, before, after },
      };
    });
    const chat = result?.chat ?? current;
    return { ...chat, participants: await this.chats.participants(chatId) };
  }

  /** The audit trail of a chat, newest first: agents and services of its tenant only. */
  async audit(
    identity: Identity,
    chatId: string,
    limit: number,
    cursor?: string,
  ): Promise<Page<AuditRecord>> {
    if (!isStaff(identity)) throw new ForbiddenError('the audit trail is for agents and services');
    await this.authorize(identity, chatId);
    return this.chats.auditTrail(chatId, limit, cursor);
  }
}
