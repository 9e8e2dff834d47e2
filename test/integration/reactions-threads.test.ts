/** Reactions and threads on DynamoDB Local: concurrent clicks and replies counted exactly, units per click. */
import { describe, expect, it } from 'vitest';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import { DynamoMessageStore } from '../../shared/adapters/dynamo/message-store.ts';
import { DynamoReactionStore } from '../../shared/adapters/dynamo/reaction-store.ts';
import { DynamoThreadStore } from '../../shared/adapters/dynamo/thread-store.ts';
import { DynamoTypingStateStore } from '../../shared/adapters/dynamo/typing-state-store.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import { newId } from '../../shared/domain/ids.ts';
import { systemClock } from '../../shared/domain/ports.ts';
import { ReactionService } from '../../shared/domain/reactions.ts';
import type { ChatRecord } from '../../shared/domain/schemas.ts';
import { ThreadService } from '../../shared/domain/threads.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();
const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
const identity = (userId: string): Identity => ({ tenantId: 'acme', userId, role: 'user' });

const setup = async () => {
  const table = await dynamo.table();
  const chats = new DynamoChatStore(table);
  const messages = new DynamoMessageStore(table);
  const reactionStore = new DynamoReactionStore(table);
  const threadStore = new DynamoThreadStore(table);
  const now = new Date().toISOString();
  const chat: ChatRecord = {
    chatId: newId('ch'),
    tenantId: 'acme',
    metadata: {},
    status: 'open',
    createdBy: 'user-0',
    createdAt: now,
    updatedAt: now,
    lastActivityAt: now,
    lastSeq: 0,
  };
  await chats.create(
    chat,
    users.map((userId) => ({ userId, role: 'user' as const, joinedAt: now })),
    { userId: 'user-0', role: 'user' },
  );
  const { message } = await messages.append({
    chatId: chat.chatId,
    tenantId: 'acme',
    clientMessageId: 'parent',
    senderId: 'user-0',
    senderRole: 'user',
    type: 'text',
    text: 'the parent',
  });
  return {
    table,
    chat,
    message,
    messages,
    reactionStore,
    threadStore,
    typing: new DynamoTypingStateStore(table),
    reactions: new ReactionService(chats, messages, reactionStore, systemClock),
    threads: new ThreadService(chats, messages, threadStore),
  };
};

describe('reactions on DynamoDB Local', () => {
  it('counts concurrent reactions of many users exactly, one version per change', async () => {
    const { chat, message, reactions, reactionStore, typing } = await setup();

    await Promise.all(
      users.map((userId) => reactions.react(identity(userId), chat.chatId, message.messageId, '👍', true)),
    );
    await reactions.react(identity('user-3'), chat.chatId, message.messageId, '👍', true);

    const [stored] = await reactionStore.bySeqs(chat.chatId, [message.seq]);
    expect(stored?.entries).toEqual([{ emoji: '👍', users: expect.arrayContaining(users) }]);
    expect(stored?.entries[0]?.users).toHaveLength(users.length);
    expect(stored?.version).toBe(users.length);
    // Pollers find the last change of the message beside the typing state.
    const live = await typing.current('acme', chat.chatId);
    expect(live).toEqual([
      expect.objectContaining({ type: 'reaction', data: expect.objectContaining({ version: users.length }) }),
    ]);
  });

  it('writes the reactions record once per click, without a read, a transaction or the message item', async () => {
    const { chat, message, reactions, table } = await setup();
    const written: string[] = [];
    table.doc.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as {
          Item?: { sk?: string };
          Key?: { sk?: string };
          TransactItems?: unknown;
          UpdateExpression?: string;
        };
        if (input.TransactItems) written.push('transaction');
        else if (input.Item?.sk) written.push(`put ${String(input.Item.sk).replace(/\d+/g, 'n')}`);
        else if (input.UpdateExpression && input.Key?.sk)
          written.push(`update ${String(input.Key.sk).replace(/\d+/g, 'n')}`);
        return next(args);
      },
      { step: 'initialize', name: 'recordWrites' },
    );

    await reactions.react(identity('user-1'), chat.chatId, message.messageId, '🎉', true);

    // The reactions record (one UpdateItem) and its copy for pollers beside the typing state.
    expect(written).toEqual(['update RX#n', 'put RX#n']);
  });
});

describe('threads on DynamoDB Local', () => {
  it('counts concurrent replies once each, even when a reply is counted again', async () => {
    const { chat, message, messages, threads, threadStore } = await setup();
    const replies = await Promise.all(
      users.slice(0, 6).map(async (userId, i) => {
        const { message: reply } = await messages.append({
          chatId: chat.chatId,
          tenantId: 'acme',
          clientMessageId: `reply-${i}`,
          senderId: userId,
          senderRole: 'user',
          type: 'text',
          text: `reply ${i}`,
          replyTo: { messageId: message.messageId, seq: message.seq, senderId: 'user-0', text: 'the parent' },
        });
        await threads.count(identity(userId), reply, false);
        return reply;
      }),
    );

    await threads.count(identity('user-0'), replies[0] as (typeof replies)[number], true);
    await threads.count(identity('user-0'), replies[1] as (typeof replies)[number], false);

    const parent = await messages.get(chat.chatId, message.seq);
    const listed = await threadStore.replySeqs(chat.chatId, message.seq, 0, 100);
    expect(parent?.replyCount).toBe(6);
    expect(listed.items).toEqual(replies.map((reply) => reply.seq).sort((a, b) => a - b));
  });
});
