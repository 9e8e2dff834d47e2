/**
 * Chats and messages: creation, access checks, sending, history and the polling fallback. Every method
 * takes the verified identity; tenants never mix and a caller only reaches chats it may see.
 */
import { chatEventEnvelope, messageCreated } from './envelopes.ts';
import { ForbiddenError, NotFoundError, ValidationError } from './errors.ts';
import { type Identity, isStaff } from './identity.ts';
import { newId, sha256 } from './ids.ts';
import { attachmentRefFor } from './attachments.ts';
import type {
  AttachmentStore,
  AuditRecord,
  ChatRecord,
  ChatStore,
  Clock,
  MessageStore,
  Page,
} from './ports.ts';
import type {
  Chat,
  CreateChatInput,
  Envelope,
  Message,
  Participant,
  PatchChatInput,
  SendMessageInput,
} from './schemas.ts';

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
  ) {}

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
    const record: ChatRecord = {
      chatId: newId('ch'),
      tenantId: identity.tenantId,
      ...(input.subject ? { subject: input.subject } : {}),
      metadata: input.metadata ?? {},
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
    const { chat, created } = await this.chats.create(record, members, identity, uniqueKey);
    return {
      chat: { ...chat, participants: created ? members : await this.chats.participants(chat.chatId) },
      created,
    };
  }

  /** Returns the chat if the caller may see it: 404 across tenants, 403 for a non-member of the tenant. */
  async authorize(identity: Identity, chatId: string): Promise<ChatRecord> {
    const [chat, member] = await Promise.all([
      this.chats.get(chatId),
      isStaff(identity) ? Promise.resolve(false) : this.chats.isParticipant(chatId, identity.userId),
    ]);
    if (!chat || chat.tenantId !== identity.tenantId) throw new NotFoundError('chat');
    if (!member && !isStaff(identity)) throw new ForbiddenError('you are not a participant of this chat');
    return chat;
  }

  /** The chat's current last seq, read consistently (after a subscription is written). */
  async lastSeq(chatId: string): Promise<number> {
    const chat = await this.chats.get(chatId, { consistent: true });
    if (!chat) throw new NotFoundError('chat');
    return chat.lastSeq;
  }

  async get(identity: Identity, chatId: string): Promise<Chat> {
    const chat = await this.authorize(identity, chatId);
    return { ...chat, participants: await this.chats.participants(chatId) };
  }

  list(identity: Identity, limit: number, cursor?: string): Promise<Page<ChatRecord>> {
    return isStaff(identity)
      ? this.chats.listForTenant(identity.tenantId, limit, cursor)
      : this.chats.listForParticipant(identity.tenantId, identity.userId, limit, cursor);
  }

  async send(
    identity: Identity,
    chatId: string,
    input: SendMessageInput,
  ): Promise<{ message: Message; created: boolean }> {
    await this.authorize(identity, chatId);
    const attachment =
      input.type === 'file'
        ? attachmentRefFor(await this.attachments.get(input.attachmentId ?? ''), chatId)
        : undefined;
    return this.messages.append({
      chatId,
      tenantId: identity.tenantId,
      clientMessageId: input.clientMessageId,
      senderId: identity.userId,
      senderRole: identity.role,
      type: input.type,
      text: input.text ?? '',
      ...(attachment ? { attachment } : {}),
    });
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
      return { items: page.items, ...(page.hasMore && first ? { nextCursor: String(first.seq) } : {}) };
    }
    const page = await this.messages.after(chatId, query.after ?? 0, query.limit);
    const last = page.items.at(-1);
    return { items: page.items, ...(page.hasMore && last ? { nextCursor: String(last.seq) } : {}) };
  }

  /**
   * Polling fallback: the envelopes a socket subscriber would have received after `after`. With
   * `waitSeconds` it long-polls (re-querying at `intervalMs`) until something arrives or time is up.
   */
  async events(
    identity: Identity,
    chatId: string,
    query: { after: number; afterEvent: number; waitSeconds: number; limit: number },
    intervalMs: number,
  ): Promise<{ items: Envelope[]; nextAfter: number; nextAfterEvent: number; hasMore: boolean }> {
    await this.authorize(identity, chatId);
    const deadline = Date.now() + query.waitSeconds * 1000;
    for (;;) {
      const [messages, events] = await Promise.all([
        this.messages.after(chatId, query.after, query.limit),
        this.chats.eventsAfter(chatId, query.afterEvent, query.limit),
      ]);
      if (messages.items.length + events.items.length > 0 || Date.now() + intervalMs > deadline) {
        const items = [...messages.items.map(messageCreated), ...events.items.map(chatEventEnvelope)].sort(
          (a, b) => a.at.localeCompare(b.at),
        );
        return {
          items,
          nextAfter: messages.items.at(-1)?.seq ?? query.after,
          nextAfterEvent: events.items.at(-1)?.eventSeq ?? query.afterEvent,
          hasMore: messages.hasMore || events.hasMore,
        };
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
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
    const result = await this.chats.change(chatId, identity, (chat) => {
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
      if (set.status === 'closed') set.closedAt = this.clock.now().toISOString();
      const action =
        set.status === 'closed' ? 'chat.close' : set.status === 'open' ? 'chat.reopen' : 'chat.update';
      return {
        set: set as Partial<ChatRecord>,
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
