/** The default responder (tenant greeting and away texts) and the service that posts its replies. */
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../shared/domain/identity.ts';
import type { MessageDraft } from '../../shared/domain/ports.ts';
import {
  AutoReplyService,
  type ResponderContext,
  TenantTextResponder,
} from '../../shared/domain/responders.ts';
import type { Chat, Message, Tenant } from '../../shared/domain/schemas.ts';

const tenant: Tenant = {
  tenantId: 'acme',
  name: 'Acme',
  allowedOrigins: [],
  theme: {},
  greeting: 'Hello!',
  awayMessage: 'Nobody is here.',
  createdAt: '2026-11-21T10:00:00.000Z',
};
const chat: Chat = {
  chatId: 'ch_aaaaaaaaaaaaaaaaaaaa',
  tenantId: 'acme',
  metadata: {},
  status: 'open',
  createdBy: 'v1',
  createdAt: '2026-11-21T10:00:00.000Z',
  updatedAt: '2026-11-21T10:00:00.000Z',
  lastActivityAt: '2026-11-21T10:00:00.000Z',
  lastSeq: 0,
  participants: [],
} as unknown as Chat;
const visitor: Identity = { tenantId: 'acme', userId: 'v1', role: 'visitor' };
const context = (overrides: Partial<ResponderContext> = {}): ResponderContext => ({
  tenant,
  chat,
  creator: visitor,
  agentsOnline: 0,
  ...overrides,
});

describe('TenantTextResponder', () => {
  const responder = new TenantTextResponder();

  it('greets a visitor and adds the away message when no agent is online', async () => {
    // Act
    const replies = await responder.onChatCreated(context());

    // Assess
    expect(replies).toEqual([
      { kind: 'greeting', text: 'Hello!', clientMessageId: 'greeting' },
      { kind: 'away', text: 'Nobody is here.', clientMessageId: 'away' },
    ]);
  });

  it('only greets when an agent is online', async () => {
    // Act
    const replies = await responder.onChatCreated(context({ agentsOnline: 2 }));

    // Assess
    expect(replies.map((reply) => reply.kind)).toEqual(['greeting']);
  });

  it('says nothing to chats created by users, agents or services', async () => {
    // Act
    const replies = await Promise.all(
      (['user', 'agent', 'service'] as const).map((role) =>
        responder.onChatCreated(context({ creator: { ...visitor, role } })),
      ),
    );

    // Assess
    expect(replies).toEqual([[], [], []]);
  });

  it('says nothing when the tenant has no greeting or away text', async () => {
    // Prepare
    const { greeting: _greeting, awayMessage: _away, ...silent } = tenant;

    // Act
    const replies = await responder.onChatCreated(context({ tenant: silent }));

    // Assess
    expect(replies).toEqual([]);
  });
});

describe('AutoReplyService', () => {
  const recorder = () => {
    const drafts: MessageDraft[] = [];
    return {
      drafts,
      append: async (draft: MessageDraft) => {
        drafts.push(draft);
        return { message: { ...draft, seq: drafts.length } as unknown as Message, created: true };
      },
    };
  };

  it('posts the replies in order as system messages with their stable client ids', async () => {
    // Prepare
    const messages = recorder();
    const service = new AutoReplyService(
      { get: async () => tenant },
      async () => 0,
      messages,
      new TenantTextResponder(),
    );

    // Act
    const posted = await service.onChatCreated(visitor, chat);

    // Assess
    expect(posted.map((message) => message.seq)).toEqual([1, 2]);
    expect(messages.drafts).toEqual([
      expect.objectContaining({
        chatId: chat.chatId,
        type: 'system',
        senderId: 'system',
        clientMessageId: 'greeting',
        text: 'Hello!',
        system: { kind: 'greeting' },
      }),
      expect.objectContaining({ clientMessageId: 'away', system: { kind: 'away' } }),
    ]);
  });

  it('posts nothing for an unknown tenant', async () => {
    // Prepare
    const messages = recorder();
    const service = new AutoReplyService(
      { get: async () => undefined },
      async () => 0,
      messages,
      new TenantTextResponder(),
    );

    // Act
    const posted = await service.onChatCreated(visitor, chat);

    // Assess
    expect(posted).toEqual([]);
    expect(messages.drafts).toEqual([]);
  });
});
