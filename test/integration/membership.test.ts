/**
 * Membership and deletion holes, ChatService composed as in shared/runtime/chats.ts on DynamoDB Local:
 * consistent authorization reads, a removal that closes the user's subscriptions (retried, then 503),
 * unique chats that do not leak to a former participant, the participant cap on every path that adds,
 * metadata keys owned by staff, a delete that scrubs the message's earlier events, and the chat's
 * membersVersion that spares the fan-out its participants read (stamped on messages and subscriptions).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoAttachmentStore } from '../../shared/adapters/dynamo/attachment-store.ts';
import { DynamoBlockStore } from '../../shared/adapters/dynamo/block-store.ts';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import { createTableContext, type TableContext } from '../../shared/adapters/dynamo/client.ts';
import { DynamoConnectionStore } from '../../shared/adapters/dynamo/connection-store.ts';
import { keys } from '../../shared/adapters/dynamo/keys.ts';
import { DynamoMessageStore } from '../../shared/adapters/dynamo/message-store.ts';
import { DynamoPresenceStore } from '../../shared/adapters/dynamo/presence-store.ts';
import { DynamoReactionStore } from '../../shared/adapters/dynamo/reaction-store.ts';
import { DynamoThreadStore } from '../../shared/adapters/dynamo/thread-store.ts';
import { DynamoTypingStateStore } from '../../shared/adapters/dynamo/typing-state-store.ts';
import { composeChatDomain } from '../../shared/domain/compose.ts';
import { DomainError } from '../../shared/domain/errors.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import { entitledSubscribers } from '../../shared/domain/delivery-scope.ts';
import { MAX_PARTICIPANTS, type Subscriptions } from '../../shared/domain/membership.ts';
import { systemClock } from '../../shared/domain/ports.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();

const user = (userId: string): Identity => ({ tenantId: 'acme', userId, role: 'user' });
const alice = user('alice');
const bob = user('bob');
const agent: Identity = { tenantId: 'acme', userId: 'agent-3', role: 'agent' };
const service: Identity = { tenantId: 'acme', userId: 'routing', role: 'service' };

/** The status a domain call ends with: its DomainError's, or 200. */
const outcome = async (action: Promise<unknown>): Promise<{ status: number; error?: DomainError }> => {
  try {
    await action;
    return { status: 200 };
  } catch (error) {
    if (error instanceof DomainError) return { status: error.status, error };
    throw error;
  }
};

const setup = async (options: { subscriptions?: (store: DynamoConnectionStore) => Subscriptions } = {}) => {
  const table = await dynamo.table();
  const connections = new DynamoConnectionStore(table);
  const stores = {
    chats: new DynamoChatStore(table),
    messages: new DynamoMessageStore(table),
    attachments: new DynamoAttachmentStore(table),
    blocks: new DynamoBlockStore(table),
    presence: new DynamoPresenceStore(table),
    typingState: new DynamoTypingStateStore(table),
    reactions: new DynamoReactionStore(table),
    threads: new DynamoThreadStore(table),
    subscriptions: options.subscriptions?.(connections) ?? connections,
  };
  const { chats } = composeChatDomain(stores, systemClock);
  return { table, stores, chats, connections };
};

const subscribe = (connections: DynamoConnectionStore, connectionId: string, chatId: string, who: Identity) =>
  connections.subscribe(connectionId, [chatId], 9_999_999_999, who.userId, who.role);

/** A confirmed (ready) attachment record of the chat, as the upload confirmation leaves it. */
const readyAttachment = async (records: DynamoAttachmentStore, chatId: string, attachmentId: string) => {
  await records.put(
    {
      attachmentId,
      tenantId: 'acme',
      chatId,
      uploaderId: 'alice',
      fileName: 'a.png',
      contentType: 'image/png',
      declaredSize: 10,
      status: 'pending',
      createdAt: new Date().toISOString(),
    },
    9_999_999_999,
  );
  await records.markReady(attachmentId, { size: 10, kind: 'file', readyAt: new Date().toISOString() });
};

const itemsWithPrefix = async (table: TableContext, chatId: string, prefix: string) =>
  (
    await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': `CHAT#${chatId}`, ':p': prefix },
        ConsistentRead: true,
      }),
    )
  ).Items ?? [];

/**
 * The chat domain on a second context of the table that records every read by key, in order: each
 * GetItem or BatchGet request as its keys' sort keys and whether it read consistently.
 */
const observedDomain = (table: TableContext) => {
  const recorded = createTableContext(table.tableName, dynamo.endpoint);
  const reads: { keys: string[]; consistent: boolean }[] = [];
  recorded.doc.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as {
        Key?: { sk?: string };
        ConsistentRead?: boolean;
        RequestItems?: Record<string, { Keys: { sk?: string }[]; ConsistentRead?: boolean }>;
      };
      if (input.Key) reads.push({ keys: [String(input.Key.sk)], consistent: input.ConsistentRead === true });
      for (const request of Object.values(input.RequestItems ?? {}))
        reads.push({
          keys: request.Keys.map((key) => String(key.sk)),
          consistent: request.ConsistentRead === true,
        });
      return next(args);
    },
    { step: 'initialize', name: 'recordReads' },
  );
  const { chats } = composeChatDomain(
    {
      chats: new DynamoChatStore(recorded),
      messages: new DynamoMessageStore(recorded),
      attachments: new DynamoAttachmentStore(recorded),
      blocks: new DynamoBlockStore(recorded),
      presence: new DynamoPresenceStore(recorded),
      typingState: new DynamoTypingStateStore(recorded),
      reactions: new DynamoReactionStore(recorded),
      threads: new DynamoThreadStore(recorded),
    },
    systemClock,
  );
  return { chats, reads };
};

describe('authorization reads', () => {
  it('reads the chat and the participant item consistently for every access check', async () => {
    // Prepare: the domain on a context that records every read by key
    const { table, chats } = await setup();
    const { chat } = await chats.create(alice, { participants: ['bob'] });
    const { chats: observed, reads } = observedDomain(table);

    // Act
    await observed.authorize(bob, chat.chatId);

    // Assess
    const gets = reads.flatMap(({ keys, consistent }) => keys.map((key) => ({ key, consistent })));
    expect(gets).toEqual([
      { key: 'CHAT', consistent: true },
      { key: 'PART#bob', consistent: true },
    ]);
  });
});

describe('membersVersion', () => {
  const subscribeVia = (
    chats: Awaited<ReturnType<typeof setup>>['chats'],
    connections: DynamoConnectionStore,
    connectionId: string,
    chatId: string,
    who: Identity,
  ) =>
    chats.subscribe(who, [{ chatId }], (chatIds, versions) =>
      connections.subscribe(connectionId, chatIds, 9_999_999_999, who.userId, who.role, versions),
    );
  const text = (clientMessageId: string) => ({ clientMessageId, type: 'text' as const, text: 'hi' });
  const versionOfMessage = async (table: TableContext, chatId: string, seq: number) =>
    (await itemsWithPrefix(table, chatId, keys.message(chatId, seq).sk))[0]?.membersVersion;

  it('counts removals, and stamps messages and subscriptions with the version they were checked at', async () => {
    // Prepare: bob subscribed while nobody had been removed
    const { table, chats, connections } = await setup();
    const { chat } = await chats.create(alice, { participants: ['bob', 'carol'] });
    await subscribeVia(chats, connections, 'bob-1', chat.chatId, bob);
    const first = (await chats.send(alice, chat.chatId, text('m1'))).message;

    // Act: an add leaves the version, a removal moves it; then a message and a subscription
    await chats.addParticipant(alice, chat.chatId, 'dave');
    const second = (await chats.send(alice, chat.chatId, text('m2'))).message;
    await chats.removeParticipant(alice, chat.chatId, 'carol');
    const third = (await chats.send(alice, chat.chatId, text('m3'))).message;
    await subscribeVia(chats, connections, 'alice-1', chat.chatId, alice);

    // Assess
    expect(await versionOfMessage(table, chat.chatId, first.seq)).toBe(0);
    expect(await versionOfMessage(table, chat.chatId, second.seq)).toBe(0);
    expect(await versionOfMessage(table, chat.chatId, third.seq)).toBe(1);
    expect(third).not.toHaveProperty('membersVersion');
    const subscriptions = await connections.subscriberUsers(chat.chatId);
    expect(
      subscriptions
        .map(({ connectionId, membersVersion }) => ({ connectionId, membersVersion }))
        .sort((a, b) => a.connectionId.localeCompare(b.connectionId)),
    ).toEqual([
      { connectionId: 'alice-1', membersVersion: 1 },
      { connectionId: 'bob-1', membersVersion: 0 },
    ]);
    const [chatItem] = await itemsWithPrefix(table, chat.chatId, 'CHAT');
    expect(chatItem?.membersVersion).toBe(1);
    expect(await chats.get(alice, chat.chatId)).not.toHaveProperty('membersVersion');
  });

  it('vouches a subscription with one read while nobody was removed since the user joined', async () => {
    // Prepare
    const { table, chats, connections } = await setup();
    const { chat } = await chats.create(alice, { participants: ['bob'] });
    const { chats: observed, reads } = observedDomain(table);

    // Act
    await subscribeVia(observed, connections, 'bob-1', chat.chatId, bob);

    // Assess: the chat and bob's participant item in one request, then the chat for the positions
    expect(reads.slice(0, 2)).toEqual([
      { keys: ['CHAT', 'PART#bob'], consistent: true },
      { keys: ['CHAT'], consistent: true },
    ]);
    const [subscription] = await connections.subscriberUsers(chat.chatId);
    expect(subscription?.membersVersion).toBe(0);
  });

  it('reads the participant item again, after the chat, when somebody was removed since the user joined', async () => {
    // Prepare: carol removed after bob joined (version 1); dave added after that (joined at 1)
    const { table, chats, connections } = await setup();
    const { chat } = await chats.create(alice, { participants: ['bob', 'carol'] });
    await chats.removeParticipant(alice, chat.chatId, 'carol');
    await chats.addParticipant(alice, chat.chatId, 'dave');
    const { chats: observed, reads } = observedDomain(table);
    const dave = user('dave');

    // Act
    await subscribeVia(observed, connections, 'bob-1', chat.chatId, bob);
    const bobReads = reads.splice(0);
    await subscribeVia(observed, connections, 'dave-1', chat.chatId, dave);

    // Assess: bob's item is read again after the chat item; dave's (joined at version 1) is not
    expect(bobReads.slice(0, 3)).toEqual([
      { keys: ['CHAT', 'PART#bob'], consistent: true },
      { keys: ['PART#bob'], consistent: true },
      { keys: ['CHAT'], consistent: true },
    ]);
    expect(reads.slice(0, 2).map(({ keys }) => keys)).toEqual([['CHAT', 'PART#dave'], ['CHAT']]);
    const versions = Object.fromEntries(
      (await connections.subscriberUsers(chat.chatId)).map((s) => [s.connectionId, s.membersVersion]),
    );
    expect(versions).toEqual({ 'bob-1': 1, 'dave-1': 1 });
  });

  it('never lets a subscription racing its user’s removal receive the messages sent after it', async () => {
    // Prepare
    const { table, stores, chats, connections } = await setup();
    for (let round = 0; round < 12; round++) {
      const { chat } = await chats.create(alice, { participants: ['bob'] });

      // Act: bob subscribes while alice removes him, then alice sends
      await Promise.allSettled([
        subscribeVia(chats, connections, `bob-${round}`, chat.chatId, bob),
        chats.removeParticipant(alice, chat.chatId, 'bob'),
      ]);
      const sent = (await chats.send(alice, chat.chatId, text(`after-${round}`))).message;

      // Assess: whatever subscription is left, the fan-out's check for that message leaves bob out
      const version = await versionOfMessage(table, chat.chatId, sent.seq);
      expect(version).toBe(1);
      const entitled = await entitledSubscribers(
        await connections.subscriberUsers(chat.chatId),
        async () => (await stores.chats.participants(chat.chatId, { consistent: true })).map((p) => p.userId),
        version as number,
      );
      expect(entitled.map((s) => s.userId)).not.toContain('bob');
    }
  });
});

describe('removing a participant', () => {
  it('deletes the user’s subscriptions on every socket, and only theirs', async () => {
    // Prepare: bob on two sockets, alice and an agent on one each
    const { chats, connections } = await setup();
    const { chat } = await chats.create(alice, { participants: ['bob'] });
    await subscribe(connections, 'bob-1', chat.chatId, bob);
    await subscribe(connections, 'bob-2', chat.chatId, bob);
    await subscribe(connections, 'alice-1', chat.chatId, alice);
    await subscribe(connections, 'agent-1', chat.chatId, agent);

    // Act
    await chats.removeParticipant(alice, chat.chatId, 'bob');

    // Assess
    expect((await connections.subscribers(chat.chatId)).sort()).toEqual(['agent-1', 'alice-1']);
  });

  it('answers 503 when the subscriptions cannot be closed, and a retry closes them', async () => {
    // Prepare: unsubscribing fails (throttled) for the first 5 calls: more than one request retries
    const failures = { left: 5 };
    const { chats, connections } = await setup({
      subscriptions: (store) => ({
        subscriberUsers: (chatId) => store.subscriberUsers(chatId),
        unsubscribe: (connectionId, chatId) =>
          failures.left-- > 0
            ? Promise.reject(new Error('ProvisionedThroughputExceededException'))
            : store.unsubscribe(connectionId, chatId),
      }),
    });
    const { chat } = await chats.create(alice, { participants: ['bob'] });
    await subscribe(connections, 'bob-1', chat.chatId, bob);

    // Act
    const first = await outcome(chats.removeParticipant(alice, chat.chatId, 'bob'));
    const left = await connections.subscribers(chat.chatId);
    const retry = await outcome(chats.removeParticipant(alice, chat.chatId, 'bob'));

    // Assess: the removal stands, the first answer asks for a retry, the retry finishes the cleanup
    expect(first.status).toBe(503);
    expect(left).toEqual(['bob-1']);
    expect(retry.status).toBe(404);
    expect(await connections.subscribers(chat.chatId)).toEqual([]);
  });
});

describe('unique chats', () => {
  it('refuses the existing chat to a caller removed from it (404), and still returns it to staff', async () => {
    // Prepare
    const { chats } = await setup();
    const { chat } = await chats.create(alice, { participants: ['bob'], unique: true });
    await chats.removeParticipant(alice, chat.chatId, 'bob');
    await chats.addParticipant(alice, chat.chatId, 'carol');
    await chats.removeParticipant(alice, chat.chatId, 'carol');

    // Act: bob asks again for "the chat of alice and bob"
    const byBob = await outcome(chats.create(bob, { participants: ['alice'], unique: true }));
    const byAlice = await chats.create(alice, { participants: ['bob'], unique: true });
    const byService = await chats.create(service, { participants: ['alice', 'bob'], unique: true });

    // Assess
    expect(byBob.status).toBe(404);
    expect(byBob.error?.message).not.toContain(chat.chatId);
    expect(byAlice).toMatchObject({ created: false, chat: { chatId: chat.chatId } });
    expect(byService).toMatchObject({ created: false, chat: { chatId: chat.chatId } });
  });
});

describe('participant cap', () => {
  const fullChat = async () => {
    const context = await setup();
    const others = Array.from({ length: MAX_PARTICIPANTS - 1 }, (_, i) => `member-${i}`);
    const { chat } = await context.chats.create(alice, { participants: others });
    return { ...context, chatId: chat.chatId };
  };

  it('refuses a participant past the cap with 409 and changes nothing', async () => {
    // Prepare
    const { chats, stores, chatId } = await fullChat();

    // Act
    const added = await outcome(chats.addParticipant(alice, chatId, 'one-too-many'));

    // Assess
    expect(added.status).toBe(409);
    expect(added.error?.message).toContain(String(MAX_PARTICIPANTS));
    expect(await stores.chats.participants(chatId)).toHaveLength(MAX_PARTICIPANTS);
    expect((await stores.chats.eventsAfter(chatId, 0, 10)).items).toEqual([]);
  });

  it('refuses to assign an agent who would join a full chat, and lets one already in it be assigned', async () => {
    // Prepare
    const { chats, stores, chatId } = await fullChat();

    // Act
    const outsider = await outcome(chats.assign(agent, chatId, 'agent-9'));
    const insider = await outcome(chats.assign(agent, chatId, 'member-3'));

    // Assess
    expect(outsider.status).toBe(409);
    expect(insider.status).toBe(200);
    expect(await stores.chats.participants(chatId)).toHaveLength(MAX_PARTICIPANTS);
  });

  it('holds the cap against concurrent adds', async () => {
    // Prepare: one seat left
    const context = await setup();
    const others = Array.from({ length: MAX_PARTICIPANTS - 2 }, (_, i) => `member-${i}`);
    const { chat } = await context.chats.create(alice, { participants: others });

    // Act
    const results = await Promise.all(
      ['late-1', 'late-2', 'late-3'].map((userId) =>
        outcome(context.chats.addParticipant(agent, chat.chatId, userId)),
      ),
    );

    // Assess
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409]);
    expect(await context.stores.chats.participants(chat.chatId)).toHaveLength(MAX_PARTICIPANTS);
  });
});

describe('metadata ownership', () => {
  it('refuses a user’s PATCH that changes or removes keys an agent set, naming them, and changes nothing', async () => {
    // Prepare: alice's chat; an agent routes it
    const { chats, stores } = await setup();
    const { chat } = await chats.create(alice, { participants: ['bob'], metadata: { topic: 'refund' } });
    await chats.update(agent, chat.chatId, { metadata: { topic: 'refund', department: 'billing' } });
    const eventsBefore = (await stores.chats.eventsAfter(chat.chatId, 0, 100)).items.length;

    // Act
    const repointed = await outcome(
      chats.update(alice, chat.chatId, { metadata: { topic: 'refund', department: 'sales' } }),
    );
    const dropped = await outcome(chats.update(alice, chat.chatId, { metadata: { topic: 'other' } }));
    const ownKey = await chats.update(alice, chat.chatId, {
      metadata: { topic: 'late delivery', department: 'billing' },
    });

    // Assess
    expect(repointed.status).toBe(403);
    expect(repointed.error?.details).toEqual({ keys: ['department'] });
    expect(dropped.status).toBe(403);
    expect(dropped.error?.message).toContain('department');
    expect(ownKey.metadata).toEqual({ topic: 'late delivery', department: 'billing' });
    expect(ownKey).not.toHaveProperty('staffKeys');
    expect((await stores.chats.eventsAfter(chat.chatId, 0, 100)).items).toHaveLength(eventsBefore + 1);
  });

  it('owns keys from a staff creation, and frees a key once staff remove it', async () => {
    // Prepare: alice's chat, whose metadata a service then replaces with a routing key
    const { chats } = await setup();
    const { chat } = await chats.create(alice, { metadata: {} });
    await chats.update(service, chat.chatId, { metadata: { project_id: 'p1' } });
    const refused = await outcome(chats.update(alice, chat.chatId, { metadata: { project_id: 'p2' } }));

    // Act
    await chats.update(agent, chat.chatId, { metadata: {} });
    const freed = await chats.update(alice, chat.chatId, { metadata: { project_id: 'p2' } });

    // Assess
    expect(refused.status).toBe(403);
    expect(freed.metadata).toEqual({ project_id: 'p2' });
  });
});

describe('deleting a message', () => {
  it('scrubs its earlier events (edits and thread counts) and discards its attachment', async () => {
    // Prepare: a file message, edited twice and replied to, so three events carry its text
    const { table, chats, stores } = await setup();
    const { chat } = await chats.create(alice, { participants: ['bob'] });
    const attachmentId = 'att_aaaaaaaaaaaaaaaaaaaa';
    await readyAttachment(stores.attachments, chat.chatId, attachmentId);
    const { message } = await chats.send(alice, chat.chatId, {
      clientMessageId: 'f',
      type: 'file',
      attachmentId,
      text: 'secret one',
    });
    await chats.editMessage(alice, chat.chatId, message.messageId, 'secret two');
    await chats.editMessage(alice, chat.chatId, message.messageId, 'secret three');
    await chats.send(bob, chat.chatId, {
      clientMessageId: 'r',
      type: 'text',
      text: 'ok',
      replyTo: message.messageId,
    });
    const discarded: string[] = [];

    // Act
    const deleted = await chats.deleteMessage(alice, chat.chatId, message.messageId, async (id) => {
      discarded.push(id);
    });

    // Assess
    const log = (await stores.chats.eventsAfter(chat.chatId, 0, 100)).items;
    expect(log.filter((event) => event.type === 'message.updated')).toHaveLength(3);
    expect(JSON.stringify(log)).not.toContain('secret');
    expect(JSON.stringify(log)).not.toContain(attachmentId);
    expect(deleted).toMatchObject({ text: '', deletedBy: 'alice' });
    expect(discarded).toEqual([attachmentId]);
    expect(await itemsWithPrefix(table, chat.chatId, 'MEVT#')).toEqual([]);
    expect(await itemsWithPrefix(table, chat.chatId, 'DELETED#')).toEqual([]);
  });

  it('answers 503 when the file cannot be removed, and a retry (409) finishes the deletion', async () => {
    // Prepare: a file message; the file store fails for the first three calls
    const { table, chats, stores } = await setup();
    const { chat } = await chats.create(alice, { participants: ['bob'] });
    const attachmentId = 'att_bbbbbbbbbbbbbbbbbbbb';
    await readyAttachment(stores.attachments, chat.chatId, attachmentId);
    const { message } = await chats.send(alice, chat.chatId, {
      clientMessageId: 'f',
      type: 'file',
      attachmentId,
      text: 'secret caption',
    });
    const failures = { left: 3 };
    const discarded: string[] = [];
    const discard = async (id: string) => {
      if (failures.left-- > 0) throw new Error('S3 is down');
      discarded.push(id);
    };

    // Act
    const first = await outcome(chats.deleteMessage(alice, chat.chatId, message.messageId, discard));
    const stored = await stores.messages.get(chat.chatId, message.seq);
    const pending = await itemsWithPrefix(table, chat.chatId, 'DELETED#');
    const retry = await outcome(chats.deleteMessage(alice, chat.chatId, message.messageId, discard));

    // Assess: the delete stands and says what is left; the retry removes the file and the record
    expect(first.status).toBe(503);
    expect(stored).toMatchObject({ text: '', deletedBy: 'alice' });
    expect(stored).not.toHaveProperty('attachment');
    expect(pending).toHaveLength(1);
    expect(retry.status).toBe(409);
    expect(discarded).toEqual([attachmentId]);
    expect(await itemsWithPrefix(table, chat.chatId, 'DELETED#')).toEqual([]);
  });
});
