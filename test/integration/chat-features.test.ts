/**
 * The chat features of ChatService wired as in shared/runtime/chats.ts, to the real DynamoDB adapters on
 * DynamoDB Local (no HTTP, no sockets): unique chats, participants, read receipts and unread counts,
 * edits and soft deletes, system events, sessions, assignment, the audit trail, mute preferences,
 * blocking and the automatic greeting / away replies. Tests are independent: each works on chats of
 * its own, on a fresh table per test or per describe block.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoAttachmentStore } from '../../shared/adapters/dynamo/attachment-store.ts';
import { DynamoBlockStore } from '../../shared/adapters/dynamo/block-store.ts';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import type { TableContext } from '../../shared/adapters/dynamo/client.ts';
import { DynamoMessageStore } from '../../shared/adapters/dynamo/message-store.ts';
import { DynamoPresenceStore } from '../../shared/adapters/dynamo/presence-store.ts';
import { DynamoStatsStore } from '../../shared/adapters/dynamo/stats-store.ts';
import { DynamoTenantStore } from '../../shared/adapters/dynamo/tenant-store.ts';
import { DynamoReactionStore } from '../../shared/adapters/dynamo/reaction-store.ts';
import { DynamoThreadStore } from '../../shared/adapters/dynamo/thread-store.ts';
import { DynamoTypingStateStore } from '../../shared/adapters/dynamo/typing-state-store.ts';
import { composeChatDomain } from '../../shared/domain/compose.ts';
import { ConflictError, DomainError, ForbiddenError } from '../../shared/domain/errors.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import { type ChatEventRecord, systemClock } from '../../shared/domain/ports.ts';
import { AutoReplyService, TenantTextResponder } from '../../shared/domain/responders.ts';
import type { Chat, Message } from '../../shared/domain/schemas.ts';
import { StatsService } from '../../shared/domain/stats.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();

const user = (userId: string, tenantId = 'acme'): Identity => ({ tenantId, userId, role: 'user' });
const alice = user('alice');
const bob = user('bob');
const carol = user('carol');
const dave = user('dave');
const visitor: Identity = { tenantId: 'acme', userId: 'v_visitor7', role: 'visitor' };
const agent: Identity = { tenantId: 'acme', userId: 'agent-3', role: 'agent' };
const lead: Identity = { tenantId: 'acme', userId: 'lead-1', role: 'agent' };
const payments: Identity = { tenantId: 'acme', userId: 'payments', role: 'service', name: 'Payments bot' };
const otherAgent: Identity = { tenantId: 'globex', userId: 'agent-9', role: 'agent' };
const otherService: Identity = { tenantId: 'globex', userId: 'payments', role: 'service' };

/** ChatService composed as shared/runtime/chats.ts composes it, on `shared` or else a fresh table. */
const setup = async (shared?: TableContext) => {
  const table = shared ?? (await dynamo.table());
  const stores = {
    chats: new DynamoChatStore(table),
    messages: new DynamoMessageStore(table),
    attachments: new DynamoAttachmentStore(table),
    blocks: new DynamoBlockStore(table),
    presence: new DynamoPresenceStore(table),
    typingState: new DynamoTypingStateStore(table),
    tenants: new DynamoTenantStore(table),
    stats: new DynamoStatsStore(table),
    reactions: new DynamoReactionStore(table),
    threads: new DynamoThreadStore(table),
  };
  const { blocks, chats } = composeChatDomain(stores, systemClock);
  const stats = new StatsService(stores.stats, systemClock);
  const autoReplies = new AutoReplyService(
    stores.tenants,
    (tenantId) => stats.agentsOnline(tenantId),
    stores.messages,
    new TenantTextResponder(),
  );

  const open = async (creator: Identity, participants: string[] = [], subject?: string) =>
    (await chats.create(creator, { participants, ...(subject ? { subject } : {}) })).chat.chatId;
  const say = async (sender: Identity, chatId: string, clientMessageId: string, text = 'hi') =>
    (await chats.send(sender, chatId, { clientMessageId, type: 'text', text })).message;
  /** The chat's event log as stored, ascending. */
  const events = async (chatId: string): Promise<ChatEventRecord[]> =>
    (await stores.chats.eventsAfter(chatId, 0, 100)).items;
  const history = async (chatId: string): Promise<Message[]> =>
    (await stores.messages.after(chatId, 0, 100)).items;
  /** Every audit record of the chat, newest first, read by a tenant agent. */
  const trail = async (chatId: string) => (await chats.audit(agent, chatId, 100)).items;
  const participantItem = async (chatId: string, userId: string) =>
    (
      await table.doc.send(
        new GetCommand({
          TableName: table.tableName,
          Key: { pk: `CHAT#${chatId}`, sk: `PART#${userId}` },
          ConsistentRead: true,
        }),
      )
    ).Item;
  return {
    table,
    stores,
    chats,
    blocks,
    stats,
    autoReplies,
    open,
    say,
    events,
    history,
    trail,
    participantItem,
  };
};

/**
 * One table for the tests of a describe block that only read their own chats (event log, audit trail,
 * history and participants are per chat); blocks that read per-user or per-tenant lists, unique-chat
 * keys or tenant settings use a fresh table per test.
 */
const tablePerDescribe = () => {
  let table: TableContext | undefined;
  beforeAll(async () => {
    table = await dynamo.table();
  });
  return () => setup(table);
};

/** The status of the DomainError an action is refused with; anything else fails the test. */
const statusOf = (action: Promise<unknown>): Promise<number | 'accepted'> =>
  action.then(
    () => 'accepted' as const,
    (error: unknown) => {
      if (error instanceof DomainError) return error.status;
      throw error;
    },
  );

/** The error an action is refused with (undefined when it succeeds). */
const errorOf = (action: Promise<unknown>): Promise<unknown> =>
  action.then(
    () => undefined,
    (error: unknown) => error,
  );

const ids = (chat: Pick<Chat, 'participants'>) => (chat.participants ?? []).map((p) => p.userId).sort();

/** Audit records are ordered by their millisecond: let the clock move on between audited actions. */
const tick = () => new Promise((resolve) => setTimeout(resolve, 3));

describe('unique chats', () => {
  it('returns the existing chat for the same participant set, whichever member asks', async () => {
    // Prepare
    const { chats, stores } = await setup();
    const first = await chats.create(alice, { participants: ['bob'], unique: true, subject: 'Us' });

    // Act
    const again = await chats.create(alice, { participants: ['bob', 'alice', 'bob'], unique: true });
    const fromBob = await chats.create(bob, { participants: ['alice'], unique: true, subject: 'Other' });

    // Assess
    expect(first.created).toBe(true);
    expect([again.created, fromBob.created]).toEqual([false, false]);
    expect([again.chat.chatId, fromBob.chat.chatId]).toEqual([first.chat.chatId, first.chat.chatId]);
    expect(fromBob.chat).toMatchObject({ subject: 'Us', createdBy: 'alice' });
    expect(ids(fromBob.chat)).toEqual(['alice', 'bob']);
    const listed = await stores.chats.listForParticipant('acme', 'bob', 10);
    expect(listed.items.map((chat) => chat.chatId)).toEqual([first.chat.chatId]);
  });

  it('creates exactly one chat when ten unique creates for the same set race', async () => {
    // Prepare
    const { chats, stores } = await setup();

    // Act
    const results = await Promise.all(
      Array.from({ length: 10 }, () => chats.create(alice, { participants: ['bob'], unique: true })),
    );

    // Assess
    const chatIds = new Set(results.map((result) => result.chat.chatId));
    expect(chatIds.size).toBe(1);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    for (const result of results) expect(ids(result.chat)).toEqual(['alice', 'bob']);
    const [chatId] = [...chatIds];
    const listed = await stores.chats.listForParticipant('acme', 'alice', 20);
    expect(listed.items.map((chat) => chat.chatId)).toEqual([chatId]);
    expect((await stores.chats.listForTenant('acme', 20)).items).toHaveLength(1);
  });

  it('makes a new chat for a different participant set, a non-unique create or another tenant', async () => {
    // Prepare
    const { chats } = await setup();
    const pair = await chats.create(alice, { participants: ['bob'], unique: true });

    // Act
    const withCarol = await chats.create(alice, { participants: ['carol'], unique: true });
    const trio = await chats.create(alice, { participants: ['bob', 'carol'], unique: true });
    const plain = await chats.create(alice, { participants: ['bob'] });
    const elsewhere = await chats.create(user('alice', 'globex'), { participants: ['bob'], unique: true });

    // Assess
    const created = [pair, withCarol, trio, plain, elsewhere];
    expect(created.map((result) => result.created)).toEqual([true, true, true, true, true]);
    expect(new Set(created.map((result) => result.chat.chatId)).size).toBe(5);
    expect(elsewhere.chat.tenantId).toBe('globex');
    expect(ids(trio.chat)).toEqual(['alice', 'bob', 'carol']);
  });
});

describe('participants', () => {
  const setupShared = tablePerDescribe();

  it('lets the creator add a participant, who can then read the chat; chat.updated carries the new list', async () => {
    // Prepare
    const { chats, open, events } = await setupShared();
    const chatId = await open(alice, ['bob']);
    const before = await statusOf(chats.get(carol, chatId));

    // Act
    const added = await chats.addParticipant(alice, chatId, 'carol');
    const again = await chats.addParticipant(alice, chatId, 'carol');
    const seenByCarol = await chats.get(carol, chatId);

    // Assess
    expect(before).toBe(403);
    expect(ids(added)).toEqual(['alice', 'bob', 'carol']);
    expect(ids(again)).toEqual(['alice', 'bob', 'carol']);
    expect(ids(seenByCarol)).toEqual(['alice', 'bob', 'carol']);
    expect(seenByCarol.participants?.find((p) => p.userId === 'carol')).toMatchObject({
      role: 'user',
      online: false,
    });
    const log = await events(chatId);
    expect(log.map((event) => [event.type, event.eventSeq, event.actorId])).toEqual([
      ['chat.updated', 1, 'alice'],
    ]);
    expect(ids(log[0]?.data as Chat)).toEqual(['alice', 'bob', 'carol']);
  });

  it('refuses additions by a non-creator user or a visitor, and removals of non-participants', async () => {
    // Prepare
    const { chats, open, events } = await setupShared();
    const chatId = await open(alice, ['bob']);
    const visitorChat = await open(visitor);

    // Act
    const statuses = await Promise.all([
      statusOf(chats.addParticipant(bob, chatId, 'dave')),
      statusOf(chats.addParticipant(visitor, visitorChat, 'dave')),
      statusOf(chats.removeParticipant(alice, chatId, 'zed')),
      statusOf(chats.removeParticipant(bob, chatId, 'alice')),
      statusOf(chats.addParticipant(otherAgent, chatId, 'dave')),
    ]);

    // Assess
    expect(statuses).toEqual([403, 403, 404, 403, 404]);
    expect(ids(await chats.get(agent, chatId))).toEqual(['alice', 'bob']);
    expect(ids(await chats.get(agent, visitorChat))).toEqual(['v_visitor7']);
    expect(await events(chatId)).toEqual([]);
    expect(await events(visitorChat)).toEqual([]);
  });

  it('lets a participant leave and an agent remove one; removed users are refused afterwards', async () => {
    // Prepare
    const { chats, open, events, stores, trail } = await setupShared();
    const chatId = await open(alice, ['bob']);
    await chats.addParticipant(agent, chatId, 'carol');

    // Act
    const left = await chats.removeParticipant(bob, chatId, 'bob');
    const removed = await chats.removeParticipant(agent, chatId, 'carol');

    // Assess
    expect(ids(left)).toEqual(['alice', 'carol']);
    expect(ids(removed)).toEqual(['alice']);
    expect(ids(await chats.get(alice, chatId))).toEqual(['alice']);
    expect((await stores.chats.access(chatId, 'bob')).member).toBe(false);
    await expect(chats.get(bob, chatId)).rejects.toBeInstanceOf(ForbiddenError);
    expect(
      await Promise.all([
        statusOf(chats.get(bob, chatId)),
        statusOf(chats.send(bob, chatId, { clientMessageId: 'late', type: 'text', text: 'hi' })),
        statusOf(chats.history(carol, chatId, { limit: 10 })),
        statusOf(chats.markRead(carol, chatId, 0)),
      ]),
    ).toEqual([403, 403, 403, 403]);
    expect(await chats.lastSeq(chatId)).toBe(0);
    const log = await events(chatId);
    expect(log.map((event) => [event.type, event.actorId])).toEqual([
      ['chat.updated', 'agent-3'],
      ['chat.updated', 'bob'],
      ['chat.updated', 'agent-3'],
    ]);
    expect(log.map((event) => ids(event.data as Chat))).toEqual([
      ['alice', 'bob', 'carol'],
      ['alice', 'carol'],
      ['alice'],
    ]);
    expect((await trail(chatId)).map((a) => [a.action, a.actorId, a.before ?? a.after])).toEqual([
      ['participant.remove', 'agent-3', { userId: 'carol' }],
      ['participant.remove', 'bob', { userId: 'bob' }],
      ['participant.add', 'agent-3', { userId: 'carol' }],
      ['chat.create', 'alice', { participants: ['alice', 'bob'], metadata: {} }],
    ]);
  });
});

describe('who may send', () => {
  const setupShared = tablePerDescribe();

  it('lets participants and the tenant’s staff send, and refuses others with the whole check’s 403 or 404', async () => {
    // Prepare: globex's alice has the user id of a participant of acme's chat
    const { chats, open } = await setupShared();
    const chatId = await open(alice, ['bob']);
    const send = (sender: Identity, clientMessageId: string) =>
      chats.send(sender, chatId, { clientMessageId, type: 'text', text: 'hi' });

    // Act
    const statuses = await Promise.all([
      statusOf(send(alice, 'a1')),
      statusOf(send(agent, 'g1')),
      statusOf(send(payments, 's1')),
      statusOf(send(carol, 'c1')),
      statusOf(send(user('alice', 'globex'), 'x1')),
      statusOf(send(otherAgent, 'x2')),
      statusOf(
        chats.send(alice, 'ch_nonexistent0000000000', { clientMessageId: 'n1', type: 'text', text: 'hi' }),
      ),
    ]);

    // Assess
    expect(statuses).toEqual(['accepted', 'accepted', 'accepted', 403, 404, 404, 404]);
    expect(await chats.lastSeq(chatId)).toBe(3);
  });
});

describe('read receipts and unread counts', () => {
  it('moves the read position forward only, with one receipt event per move', async () => {
    // Prepare
    const { chats, open, say, events, participantItem } = await setup();
    const chatId = await open(alice, ['bob']);
    for (let i = 1; i <= 5; i++) await say(alice, chatId, `m${i}`);

    // Act
    const read = await chats.markRead(bob, chatId, 3);
    const older = await chats.markRead(bob, chatId, 2);
    const same = await chats.markRead(bob, chatId, 3);
    const seenByBob = await chats.get(bob, chatId);

    // Assess
    expect([read, older, same]).toEqual([
      { lastReadSeq: 3, unread: 2 },
      { lastReadSeq: 3, unread: 2 },
      { lastReadSeq: 3, unread: 2 },
    ]);
    expect(seenByBob).toMatchObject({ lastSeq: 5, lastReadSeq: 3, unread: 2 });
    expect((await participantItem(chatId, 'bob'))?.lastReadSeq).toBe(3);
    const log = await events(chatId);
    expect(log.map((event) => [event.type, event.actorId, event.data])).toEqual([
      ['receipt', 'bob', { userId: 'bob', seq: 3 }],
    ]);
    const polled = await chats.events(
      alice,
      chatId,
      { after: 5, afterEvent: 0, waitSeconds: 0, limit: 10 },
      50,
    );
    expect(polled.items).toEqual([
      expect.objectContaining({ type: 'receipt', chatId, data: { userId: 'bob', seq: 3 } }),
    ]);
    expect(polled.nextAfterEvent).toBe(1);
  });

  it('refuses a seq beyond the last message and receipts from non-participants, staff included', async () => {
    // Prepare
    const { chats, open, say, events, participantItem } = await setup();
    const chatId = await open(alice, ['bob']);
    await say(alice, chatId, 'm1');

    // Act
    const statuses = await Promise.all([
      statusOf(chats.markRead(bob, chatId, 9)),
      statusOf(chats.markRead(carol, chatId, 1)),
      statusOf(chats.markRead(agent, chatId, 1)),
    ]);

    // Assess
    expect(statuses).toEqual([400, 403, 403]);
    expect((await participantItem(chatId, 'bob'))?.lastReadSeq).toBeUndefined();
    expect(await events(chatId)).toEqual([]);
  });

  it('totals the caller’s unread messages per chat, leaving out chats read to the end', async () => {
    // Prepare
    const { chats, open, say } = await setup();
    const first = await open(alice, ['dave']);
    const second = await open(alice, ['dave']);
    const third = await open(alice, ['dave']);
    for (const [chatId, count] of [
      [first, 3],
      [second, 2],
      [third, 1],
    ] as const) {
      for (let i = 0; i < count; i++) await say(alice, chatId, `u${i}`);
    }
    await chats.markRead(dave, second, 1);
    await chats.markRead(dave, third, 1);

    // Act
    const unread = await chats.unread(dave);
    const seen = await Promise.all([first, second, third].map((chatId) => chats.get(dave, chatId)));

    // Assess
    expect(unread.total).toBe(4);
    expect([...unread.chats].sort((a, b) => b.unread - a.unread)).toEqual([
      { chatId: first, unread: 3, mentions: 0 },
      { chatId: second, unread: 1, mentions: 0 },
    ]);
    expect(seen.map((chat) => [chat.lastReadSeq, chat.unread])).toEqual([
      [0, 3],
      [1, 1],
      [1, 0],
    ]);
    expect(await chats.unread(carol)).toEqual({ total: 0, mentions: 0, chats: [] });
  });
});

describe('edits and soft deletes', () => {
  const setupShared = tablePerDescribe();

  it('lets only the sender edit a message: the new text is stored, audited and logged as message.updated', async () => {
    // Prepare
    const { chats, open, say, events, history, trail } = await setupShared();
    const chatId = await open(alice, ['bob']);
    const message = await say(alice, chatId, 'e1', 'helo');

    // Act
    const byBob = await statusOf(chats.editMessage(bob, chatId, message.messageId, 'x'));
    const byAgent = await statusOf(chats.editMessage(agent, chatId, message.messageId, 'x'));
    const edited = await chats.editMessage(alice, chatId, message.messageId, 'hello');
    const unchanged = await chats.editMessage(alice, chatId, message.messageId, 'hello');

    // Assess
    expect([byBob, byAgent]).toEqual([403, 403]);
    expect(edited).toMatchObject({
      messageId: message.messageId,
      seq: 1,
      text: 'hello',
      editedAt: expect.any(String),
    });
    expect(unchanged).toEqual(edited);
    expect((await history(chatId)).map((m) => [m.seq, m.text, m.editedAt])).toEqual([
      [1, 'hello', edited.editedAt],
    ]);
    expect(await chats.lastSeq(chatId)).toBe(1);
    const log = await events(chatId);
    expect(log.map((event) => [event.type, event.eventSeq, event.actorId])).toEqual([
      ['message.updated', 1, 'alice'],
    ]);
    expect(log[0]?.data).toEqual(edited);
    expect((await trail(chatId))[0]).toMatchObject({
      action: 'message.edit',
      actorId: 'alice',
      actorRole: 'user',
      before: { seq: 1, text: 'helo' },
      after: { text: 'hello' },
    });
  });

  it('soft-deletes: the seq stays and the text goes; an agent deletes anyone’s message; message.deleted is logged', async () => {
    // Prepare
    const { chats, open, say, events, history } = await setupShared();
    const chatId = await open(alice, ['bob']);
    await say(alice, chatId, 'd0', 'first');
    const message = await say(bob, chatId, 'd1', 'regrettable');
    const own = await say(bob, chatId, 'd2', 'typo');

    // Act
    const byAlice = await statusOf(chats.deleteMessage(alice, chatId, message.messageId));
    const byOtherTenant = await statusOf(chats.deleteMessage(otherAgent, chatId, message.messageId));
    const byAgent = await chats.deleteMessage(agent, chatId, message.messageId);
    const byBob = await chats.deleteMessage(bob, chatId, own.messageId);
    const next = await say(alice, chatId, 'd3', 'after');

    // Assess
    expect([byAlice, byOtherTenant]).toEqual([403, 404]);
    expect(byAgent).toMatchObject({
      messageId: message.messageId,
      seq: 2,
      senderId: 'bob',
      text: '',
      deletedBy: 'agent-3',
      deletedAt: expect.any(String),
    });
    expect(byBob).toMatchObject({ seq: 3, text: '', deletedBy: 'bob' });
    expect(next.seq).toBe(4);
    expect((await history(chatId)).map((m) => [m.seq, m.text, m.deletedBy ?? null])).toEqual([
      [1, 'first', null],
      [2, '', 'agent-3'],
      [3, '', 'bob'],
      [4, 'after', null],
    ]);
    const log = await events(chatId);
    expect(log.map((event) => [event.type, event.actorId, (event.data as Message).seq])).toEqual([
      ['message.deleted', 'agent-3', 2],
      ['message.deleted', 'bob', 3],
    ]);
    expect(log[0]?.data).toEqual(byAgent);
  });

  it('refuses to edit or delete a deleted message (409) and unknown messages (404)', async () => {
    // Prepare
    const { chats, open, say, events, history } = await setupShared();
    const chatId = await open(alice, ['bob']);
    const message = await say(alice, chatId, 'x1', 'mine');
    await chats.deleteMessage(alice, chatId, message.messageId);
    const wrongId = message.messageId.replace(/^m_[a-z0-9]{12}/, 'm_000000000000');

    // Act
    const edit = await errorOf(chats.editMessage(alice, chatId, message.messageId, 'again'));
    const deleteAgain = await errorOf(chats.deleteMessage(agent, chatId, message.messageId));
    const statuses = await Promise.all([
      statusOf(chats.editMessage(alice, chatId, 'm_000000000000_99', 'y')),
      statusOf(chats.editMessage(alice, chatId, wrongId, 'y')),
      statusOf(chats.deleteMessage(agent, chatId, 'm_000000000000_99')),
    ]);

    // Assess
    expect(edit).toBeInstanceOf(ConflictError);
    expect(deleteAgain).toBeInstanceOf(ConflictError);
    expect(deleteAgain).toMatchObject({ status: 409 });
    expect(statuses).toEqual([404, 404, 404]);
    expect((await history(chatId)).map((m) => [m.text, m.deletedBy])).toEqual([['', 'alice']]);
    expect((await events(chatId)).map((event) => event.type)).toEqual(['message.deleted']);
  });
});

describe('system events', () => {
  const setupShared = tablePerDescribe();

  it('posts a service’s event as a system message under its name, once per clientMessageId', async () => {
    // Prepare
    const { chats, open, history } = await setupShared();
    const chatId = await open(visitor);
    const input = {
      kind: 'payment.initiated',
      text: 'Payment of €20 started',
      data: { amount: 20 },
      clientMessageId: 'pay-1',
    };

    // Act
    const first = await chats.systemEvent(payments, chatId, input);
    const retry = await chats.systemEvent(payments, chatId, input);
    const plain = await chats.systemEvent(payments, chatId, { kind: 'job.updated', text: 'Job 7 updated' });

    // Assess
    expect([first.created, retry.created, plain.created]).toEqual([true, false, true]);
    expect(first.message).toMatchObject({
      seq: 1,
      type: 'system',
      senderId: 'payments',
      senderRole: 'service',
      senderName: 'Payments bot',
      text: 'Payment of €20 started',
      system: { kind: 'payment.initiated', data: { amount: 20 } },
    });
    expect(retry.message).toEqual(first.message);
    expect(plain.message).toMatchObject({ seq: 2, system: { kind: 'job.updated' } });
    expect(plain.message.system?.data).toBeUndefined();
    expect(await history(chatId)).toEqual([first.message, plain.message]);
  });

  it('accepts system events from services of the chat’s tenant only', async () => {
    // Prepare
    const { chats, open, history } = await setupShared();
    const chatId = await open(alice, ['bob']);
    const input = { kind: 'x', text: 'y' };

    // Act
    const statuses = await Promise.all(
      [alice, visitor, agent, otherService].map((identity) =>
        statusOf(chats.systemEvent(identity, chatId, input)),
      ),
    );

    // Assess
    expect(statuses).toEqual([403, 403, 403, 404]);
    expect(await history(chatId)).toEqual([]);
  });
});

describe('sessions', () => {
  const setupShared = tablePerDescribe();

  it('closes a chat with a rating and feedback: chat.closed is logged, new messages get 409 and nothing is stored', async () => {
    // Prepare
    const { chats, stores, open, events, history } = await setupShared();
    const chatId = await open(visitor, [], 'Help');

    // Act
    const closed = await chats.update(visitor, chatId, {
      status: 'closed',
      rating: 5,
      feedback: 'Great help',
    });
    const refused = await errorOf(
      chats.send(visitor, chatId, { clientMessageId: 'after-close', type: 'text', text: 'hi' }),
    );

    // Assess
    expect(closed).toMatchObject({
      status: 'closed',
      rating: 5,
      feedback: 'Great help',
      closedAt: expect.any(String),
      lastEventSeq: 1,
    });
    expect(refused).toBeInstanceOf(ConflictError);
    expect(refused).toMatchObject({ status: 409 });
    expect(await chats.get(visitor, chatId)).toMatchObject({
      status: 'closed',
      rating: 5,
      feedback: 'Great help',
      closedAt: closed.closedAt,
      lastSeq: 0,
    });
    expect(await chats.lastSeq(chatId)).toBe(0);
    expect(await history(chatId)).toEqual([]);
    expect(await stores.messages.get(chatId, 1)).toBeUndefined();
    const log = await events(chatId);
    expect(log.map((event) => [event.type, event.actorId])).toEqual([['chat.closed', 'v_visitor7']]);
    expect(log[0]?.data).toMatchObject({ status: 'closed', rating: 5, feedback: 'Great help' });
  });

  it('reopens a closed chat, after which the same message is accepted', async () => {
    // Prepare
    const { chats, open, events } = await setupShared();
    const chatId = await open(visitor, [], 'Help');
    await chats.update(visitor, chatId, { status: 'closed' });
    const refused = await statusOf(
      chats.send(visitor, chatId, { clientMessageId: 'later', type: 'text', text: 'hi' }),
    );

    // Act
    const reopened = await chats.update(agent, chatId, { status: 'open' });
    const sent = await chats.send(visitor, chatId, { clientMessageId: 'later', type: 'text', text: 'hi' });

    // Assess
    expect(refused).toBe(409);
    expect(reopened).toMatchObject({ status: 'open', lastEventSeq: 2 });
    expect(sent).toMatchObject({ created: true, message: { seq: 1, text: 'hi' } });
    expect(await chats.lastSeq(chatId)).toBe(1);
    expect((await events(chatId)).map((event) => [event.type, event.actorId])).toEqual([
      ['chat.closed', 'v_visitor7'],
      ['chat.updated', 'agent-3'],
    ]);
  });

  it('starts a new session on reopen: the closed one’s time, rating and feedback leave the chat and stay in the audit', async () => {
    // Prepare
    const { chats, open, trail, stores } = await setupShared();
    const chatId = await open(visitor, [], 'Help');
    const closed = await chats.update(visitor, chatId, { status: 'closed', rating: 2, feedback: 'slow' });

    // Act
    const reopened = await chats.update(agent, chatId, { status: 'open' });
    const closedAgain = await chats.update(visitor, chatId, { status: 'closed' });

    // Assess
    expect(reopened).not.toHaveProperty('rating');
    expect(reopened).not.toHaveProperty('feedback');
    expect(reopened).not.toHaveProperty('closedAt');
    expect(await stores.chats.get(chatId, { consistent: true })).not.toHaveProperty('rating');
    expect(closedAgain).not.toHaveProperty('rating');
    const reopen = (await trail(chatId)).find((record) => record.action === 'chat.reopen');
    expect(reopen).toMatchObject({
      before: { status: 'closed', closedAt: closed.closedAt, rating: 2, feedback: 'slow' },
      after: { status: 'open', closedAt: null, rating: null, feedback: null },
    });
  });

  it('writes nothing for a patch that changes nothing', async () => {
    // Prepare
    const { chats, open, events, trail } = await setupShared();
    const chatId = await open(visitor, [], 'Help');

    // Act
    const same = await chats.update(visitor, chatId, { subject: 'Help', status: 'open' });

    // Assess
    expect(same).toMatchObject({ subject: 'Help', status: 'open' });
    expect(same.lastEventSeq).toBeUndefined();
    expect(await events(chatId)).toEqual([]);
    expect((await trail(chatId)).map((a) => a.action)).toEqual(['chat.create']);
  });

  it('lets only agents, services or the creator change subject and metadata, and any participant close', async () => {
    // Prepare
    const { chats, open, events } = await setupShared();
    const chatId = await open(agent, ['bob']);

    // Act
    const byBob = await statusOf(chats.update(bob, chatId, { metadata: { priority: 9 } }));
    const byOutsider = await statusOf(chats.update(carol, chatId, { status: 'closed' }));
    const byService = await chats.update(payments, chatId, { metadata: { priority: 5 }, subject: 'Order' });
    const closedByBob = await chats.update(bob, chatId, { status: 'closed', rating: 2 });

    // Assess
    expect([byBob, byOutsider]).toEqual([403, 403]);
    expect(byService).toMatchObject({ metadata: { priority: 5 }, subject: 'Order' });
    expect(closedByBob).toMatchObject({ status: 'closed', rating: 2, metadata: { priority: 5 } });
    expect((await events(chatId)).map((event) => [event.type, event.actorId])).toEqual([
      ['chat.updated', 'payments'],
      ['chat.closed', 'bob'],
    ]);
  });
});

describe('assignment', () => {
  const setupShared = tablePerDescribe();

  it('assigns a chat: the agent joins, chat.assigned is logged and a system message says "<agent> joined"', async () => {
    // Prepare
    const { chats, open, events, history } = await setupShared();
    const chatId = await open(visitor, [], 'Order 7');

    // Act
    const assigned = await chats.assign(lead, chatId, 'agent-42');
    const again = await chats.assign(lead, chatId, 'agent-42');

    // Assess
    expect(assigned).toMatchObject({ assignee: 'agent-42', assignedAt: expect.any(String), lastEventSeq: 1 });
    expect(assigned.participants?.find((p) => p.userId === 'agent-42')).toMatchObject({ role: 'agent' });
    expect(ids(assigned)).toEqual(['agent-42', 'v_visitor7']);
    expect(again).toMatchObject({ assignee: 'agent-42', lastEventSeq: 1 });
    expect(await chats.get(visitor, chatId)).toMatchObject({ assignee: 'agent-42', lastSeq: 1 });
    const log = await events(chatId);
    expect(log.map((event) => [event.type, event.actorId])).toEqual([['chat.assigned', 'lead-1']]);
    expect(log[0]?.data).toMatchObject({ assignee: 'agent-42' });
    expect(await history(chatId)).toEqual([
      expect.objectContaining({
        seq: 1,
        type: 'system',
        senderId: 'system',
        senderRole: 'service',
        senderName: 'System',
        text: 'agent-42 joined',
        system: { kind: 'agent.joined', data: { agentId: 'agent-42', assignedBy: 'lead-1' } },
      }),
    ]);
    await expect(chats.get({ ...agent, userId: 'agent-42' }, chatId)).resolves.toMatchObject({
      lastReadSeq: 0,
      unread: 1,
    });
  });

  it('reassigns to another agent, who joins too, with the previous assignee in the audit', async () => {
    // Prepare
    const { chats, open, history, trail } = await setupShared();
    const chatId = await open(visitor);
    await chats.assign(lead, chatId, 'agent-42');

    // Act
    const reassigned = await chats.assign(payments, chatId, 'agent-43');

    // Assess
    expect(reassigned.assignee).toBe('agent-43');
    expect(ids(reassigned)).toEqual(['agent-42', 'agent-43', 'v_visitor7']);
    expect((await history(chatId)).map((m) => [m.text, m.system?.data?.assignedBy])).toEqual([
      ['agent-42 joined', 'lead-1'],
      ['agent-43 joined', 'payments'],
    ]);
    expect((await trail(chatId))[0]).toMatchObject({
      action: 'chat.assign',
      actorId: 'payments',
      actorRole: 'service',
      before: { assignee: 'agent-42' },
      after: { assignee: 'agent-43' },
    });
  });

  it('refuses assignment by visitors and users, across tenants, and of a closed chat', async () => {
    // Prepare
    const { chats, open, events, history } = await setupShared();
    const chatId = await open(visitor);
    const closedChat = await open(visitor);
    await chats.update(visitor, closedChat, { status: 'closed' });

    // Act
    const statuses = await Promise.all([
      statusOf(chats.assign(visitor, chatId, 'agent-42')),
      statusOf(chats.assign(alice, chatId, 'agent-42')),
      statusOf(chats.assign(otherAgent, chatId, 'agent-42')),
      statusOf(chats.assign(lead, closedChat, 'agent-42')),
    ]);

    // Assess
    expect(statuses).toEqual([403, 403, 404, 409]);
    expect((await chats.get(agent, chatId)).assignee).toBeUndefined();
    expect(await events(chatId)).toEqual([]);
    expect((await events(closedChat)).map((event) => event.type)).toEqual(['chat.closed']);
    expect([...(await history(chatId)), ...(await history(closedChat))]).toEqual([]);
  });
});

describe('audit trail', () => {
  const setupShared = tablePerDescribe();

  it('lists changes made within one millisecond in the order they happened', async () => {
    // Prepare: the clock stands still, so every record below carries the same `at`
    const { chats, open, trail } = await setupShared();
    const chatId = await open(visitor, [], 'Help');
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 60_000 });
    try {
      // Act
      await chats.update(agent, chatId, { subject: 'One' });
      await chats.update(agent, chatId, { subject: 'Two' });
      await chats.update(visitor, chatId, { status: 'closed' });
      await chats.update(agent, chatId, { subject: 'Three' });
    } finally {
      vi.useRealTimers();
    }

    // Assess
    const records = (await trail(chatId)).slice(0, 4);
    expect(new Set(records.map((record) => record.at)).size).toBe(1);
    expect(records.map((record) => [record.action, record.after])).toEqual([
      ['chat.update', { subject: 'Three' }],
      ['chat.close', { status: 'closed' }],
      ['chat.update', { subject: 'Two' }],
      ['chat.update', { subject: 'One' }],
    ]);
  });

  it('records create, update, close, reopen, assign, edit and delete with who, when, before and after, newest first', async () => {
    // Prepare
    const { chats, say } = await setupShared();
    const started = new Date().toISOString();
    const { chat } = await chats.create(visitor, { subject: 'Help' });
    const chatId = chat.chatId;
    await tick();
    await chats.update(agent, chatId, { metadata: { department: 'sales' } });
    await tick();
    await chats.update(visitor, chatId, { status: 'closed', rating: 4 });
    await tick();
    await chats.update(agent, chatId, { status: 'open' });
    await tick();
    await chats.assign(lead, chatId, 'agent-42');
    const message = await say(visitor, chatId, 'a1', 'helo');
    await tick();
    await chats.editMessage(visitor, chatId, message.messageId, 'hello');
    await tick();
    await chats.deleteMessage(agent, chatId, message.messageId);

    // Act
    const all = await chats.audit(agent, chatId, 100);
    const pages = [await chats.audit(lead, chatId, 3)];
    for (let cursor = pages[0]?.nextCursor; cursor;) {
      const page = await chats.audit(payments, chatId, 3, cursor);
      pages.push(page);
      cursor = page.nextCursor;
    }

    // Assess
    const items = all.items;
    expect(all.nextCursor).toBeUndefined();
    expect(items.map((a) => [a.action, a.actorId, a.actorRole])).toEqual([
      ['message.delete', 'agent-3', 'agent'],
      ['message.edit', 'v_visitor7', 'visitor'],
      ['chat.assign', 'lead-1', 'agent'],
      ['chat.reopen', 'agent-3', 'agent'],
      ['chat.close', 'v_visitor7', 'visitor'],
      ['chat.update', 'agent-3', 'agent'],
      ['chat.create', 'v_visitor7', 'visitor'],
    ]);
    expect(items.map((a) => [a.before, a.after])).toEqual([
      [{ seq: 2, text: 'hello' }, undefined],
      [{ seq: 2, text: 'helo' }, { text: 'hello' }],
      [{ assignee: null }, { assignee: 'agent-42' }],
      [
        { status: 'closed', closedAt: expect.any(String), rating: 4 },
        { status: 'open', closedAt: null, rating: null },
      ],
      [
        { status: 'open', rating: null },
        { status: 'closed', rating: 4 },
      ],
      [{ metadata: {} }, { metadata: { department: 'sales' } }],
      [undefined, { subject: 'Help', metadata: {}, participants: ['v_visitor7'] }],
    ]);
    const times = items.map((a) => a.at);
    expect(times.every((at) => at >= started && !Number.isNaN(Date.parse(at)))).toBe(true);
    expect([...times].sort().reverse()).toEqual(times);
    expect(new Set(times).size).toBe(times.length);
    expect(items.every((a) => a.chatId === chatId && a.tenantId === 'acme')).toBe(true);
    expect(pages.map((page) => page.items.length)).toEqual([3, 3, 1]);
    expect(pages.flatMap((page) => page.items)).toEqual(items);
  });

  it('is for agents and services of the chat’s tenant only', async () => {
    // Prepare
    const { chats, open } = await setupShared();
    const chatId = await open(alice, ['bob']);

    // Act
    const statuses = await Promise.all(
      [visitor, bob, otherAgent, otherService, agent, payments].map((identity) =>
        statusOf(chats.audit(identity, chatId, 10)),
      ),
    );

    // Assess
    expect(statuses).toEqual([403, 403, 404, 404, 'accepted', 'accepted']);
  });

  it('refuses a cursor of another chat’s trail', async () => {
    // Prepare
    const { chats, open } = await setupShared();
    const chatId = await open(alice, ['bob']);
    const other = await open(alice, ['bob']);
    await chats.addParticipant(alice, chatId, 'carol');
    const page = await chats.audit(agent, chatId, 1);

    // Act
    const swapped = statusOf(chats.audit(agent, other, 1, page.nextCursor));

    // Assess
    expect(page.nextCursor).toEqual(expect.any(String));
    expect(await swapped).toBe(400);
  });
});

describe('mute preferences', () => {
  it('stores a participant’s mute setting and returns it with the chat to that participant only', async () => {
    // Prepare
    const { chats, open, participantItem } = await setup();
    const chatId = await open(alice, ['bob']);

    // Act
    const muted = await chats.setPreferences(bob, chatId, { muted: true });
    const [forBob, forAlice, forAgent] = await Promise.all([
      chats.get(bob, chatId),
      chats.get(alice, chatId),
      chats.get(agent, chatId),
    ]);
    const byAgent = await statusOf(chats.setPreferences(agent, chatId, { muted: true }));
    const byOutsider = await statusOf(chats.setPreferences(carol, chatId, { muted: true }));

    // Assess
    expect(muted.preferences).toEqual({ muted: true });
    expect(forBob.preferences).toEqual({ muted: true });
    expect(forAlice.preferences).toEqual({ muted: false });
    expect(forAgent.preferences).toBeUndefined();
    expect([byAgent, byOutsider]).toEqual([403, 403]);
    expect((await participantItem(chatId, 'bob'))?.muted).toBe(true);
    expect(await participantItem(chatId, 'agent-3')).toBeUndefined();
    expect((await chats.setPreferences(bob, chatId, { muted: false })).preferences).toEqual({ muted: false });
    expect((await chats.get(bob, chatId)).preferences).toEqual({ muted: false });
  });
});

describe('blocking', () => {
  it('refuses a blocked sender in chats the blocker takes part in, stores nothing, and audits the block there', async () => {
    // Prepare
    const { chats, blocks, open, say, history, trail } = await setup();
    const shared = await open(alice, ['bob']);
    const elsewhere = await open(alice, ['carol']);
    await blocks.block(bob, 'alice');

    // Act
    const refused = await errorOf(
      chats.send(alice, shared, { clientMessageId: 'b1', type: 'text', text: 'hi' }),
    );
    const fine = await say(alice, elsewhere, 'b2');
    const fromBob = await say(bob, shared, 'b3');
    const fromAgent = await say(agent, shared, 'b4');

    // Assess
    expect(refused).toBeInstanceOf(ForbiddenError);
    expect([fine.seq, fromBob.seq, fromAgent.seq]).toEqual([1, 1, 2]);
    expect((await history(shared)).map((m) => m.senderId)).toEqual(['bob', 'agent-3']);
    expect((await trail(shared))[0]).toMatchObject({
      action: 'user.block',
      actorId: 'bob',
      after: { blocked: 'alice' },
    });
    expect((await trail(elsewhere)).map((a) => a.action)).toEqual(['chat.create']);
  });
});

describe('automatic replies', () => {
  const tenant = {
    tenantId: 'acme',
    name: 'Acme',
    allowedOrigins: [],
    theme: {},
    greeting: 'Hi! How can we help?',
    awayMessage: 'Nobody is here right now.',
    createdAt: '2026-11-21T10:00:00.000Z',
  };

  it('greets a visitor’s new chat as seq 1 and adds the away message as seq 2 when no agent is online, once', async () => {
    // Prepare
    const { chats, stores, autoReplies, history } = await setup();
    await stores.tenants.put(tenant);
    const { chat } = await chats.create(visitor, {});

    // Act
    const posted = await autoReplies.onChatCreated(visitor, chat);
    const retried = await autoReplies.onChatCreated(visitor, chat);

    // Assess
    expect(posted.map((m) => [m.seq, m.type, m.senderName, m.system?.kind, m.text])).toEqual([
      [1, 'system', 'System', 'greeting', 'Hi! How can we help?'],
      [2, 'system', 'System', 'away', 'Nobody is here right now.'],
    ]);
    expect(retried).toEqual(posted);
    expect(await history(chat.chatId)).toEqual(posted);
    expect(await chats.get(visitor, chat.chatId)).toMatchObject({ lastSeq: 2, unread: 2 });
  });

  it('only greets while an agent is online, and says nothing to chats users open or unknown tenants', async () => {
    // Prepare
    const { chats, stores, autoReplies, history } = await setup();
    await stores.tenants.put(tenant);
    await stores.stats.setAgentOnline('acme', 'agent-3', true);
    const { chat: visitorChat } = await chats.create(visitor, {});
    const { chat: userChat } = await chats.create(alice, { participants: ['bob'] });
    const stranger: Identity = { tenantId: 'initech', userId: 'v1', role: 'visitor' };
    const { chat: unknownTenantChat } = await chats.create(stranger, {});

    // Act
    const greeted = await autoReplies.onChatCreated(visitor, visitorChat);
    const silent = await autoReplies.onChatCreated(alice, userChat);
    const unknown = await autoReplies.onChatCreated(stranger, unknownTenantChat);

    // Assess
    expect(greeted.map((m) => m.system?.kind)).toEqual(['greeting']);
    expect((await history(visitorChat.chatId)).map((m) => m.text)).toEqual(['Hi! How can we help?']);
    expect([silent, unknown]).toEqual([[], []]);
    expect(await history(userChat.chatId)).toEqual([]);
    expect(await history(unknownTenantChat.chatId)).toEqual([]);
  });
});
