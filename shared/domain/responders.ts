/**
 * Automatic replies to a new chat: a small `Responder` interface a host can implement with its own bot,
 * and the default `TenantTextResponder` (the tenant's greeting for visitors, its away message when no
 * agent is online). The composition root (shared/runtime/auto-replies.ts) picks the responder; docs/operations.md,
 * "Responders".
 */
import type { Identity } from './identity.ts';
import type { MessageStore, TenantStore } from './ports.ts';
import { type Chat, type Message, SYSTEM_SENDER, type Tenant } from './schemas.ts';

/** What a responder knows about a chat that was just created. */
export interface ResponderContext {
  readonly tenant: Tenant;
  readonly chat: Chat;
  /** Who created the chat (a visitor, user, agent or service). */
  readonly creator: Identity;
  /** Live agent sockets of the tenant (eventually consistent counter, GET /v1/stats). */
  readonly agentsOnline: number;
}

/** One system message to post into the chat. */
export interface ReplyDraft {
  /** `system.kind` of the message, e.g. `greeting`, `away`. */
  readonly kind: string;
  readonly text: string;
  /**
   * Stable within a chat: a second post with the same id (a retried creation) returns the first message
   * instead of storing another one.
   */
  readonly clientMessageId: string;
  readonly data?: NonNullable<Message['system']>['data'];
  /** Display name; default `System`. */
  readonly senderName?: string;
}

export interface Responder {
  /** The system messages to post, in order (none: an empty array). */
  onChatCreated(context: ResponderContext): Promise<ReplyDraft[]>;
}

/** The tenant's own texts: a greeting for chats visitors open, plus the away message when no agent is online. */
export class TenantTextResponder implements Responder {
  onChatCreated({ tenant, creator, agentsOnline }: ResponderContext): Promise<ReplyDraft[]> {
    if (creator.role !== 'visitor') return Promise.resolve([]);
    const replies: ReplyDraft[] = [];
    if (tenant.greeting) {
      replies.push({ kind: 'greeting', text: tenant.greeting, clientMessageId: 'greeting' });
    }
    if (tenant.awayMessage && agentsOnline === 0) {
      replies.push({ kind: 'away', text: tenant.awayMessage, clientMessageId: 'away' });
    }
    return Promise.resolve(replies);
  }
}

/** Runs the responder for a new chat and posts its replies as `system` messages, in order. */
export class AutoReplyService {
  constructor(
    private readonly tenants: Pick<TenantStore, 'get'>,
    private readonly agentsOnline: (tenantId: string) => Promise<number>,
    private readonly messages: Pick<MessageStore, 'append'>,
    private readonly responder: Responder,
  ) {}

  /** The posted messages (none for an unknown tenant or when the responder has nothing to say). */
  async onChatCreated(creator: Identity, chat: Chat): Promise<Message[]> {
    const [tenant, agentsOnline] = await Promise.all([
      this.tenants.get(chat.tenantId),
      this.agentsOnline(chat.tenantId),
    ]);
    if (!tenant) return [];
    const replies = await this.responder.onChatCreated({ tenant, chat, creator, agentsOnline });
    const posted: Message[] = [];
    for (const reply of replies) {
      const { message } = await this.messages.append({
        chatId: chat.chatId,
        tenantId: chat.tenantId,
        clientMessageId: reply.clientMessageId,
        senderId: SYSTEM_SENDER,
        senderRole: 'service',
        senderName: reply.senderName ?? 'System',
        type: 'system',
        text: reply.text,
        system: { kind: reply.kind, ...(reply.data ? { data: reply.data } : {}) },
      });
      posted.push(message);
    }
    return posted;
  }
}
