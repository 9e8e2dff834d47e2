import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import type { TableContext } from '../../shared/adapters/dynamo/client.ts';
import { keys } from '../../shared/adapters/dynamo/keys.ts';
import { DynamoMessageStore, VOID_AFTER_MS } from '../../shared/adapters/dynamo/message-store.ts';
import { newId } from '../../shared/domain/ids.ts';
import type { MessageDraft } from '../../shared/domain/ports.ts';
import type { ChatRecord } from '../../shared/domain/schemas.ts';
import { isVoid } from '../../shared/domain/voids.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();

const newChat = async () => {
  const table = await dynamo.table();
  const chats = new DynamoChatStore(table);
  const now = new Date().toISOString();
  const chat: ChatRecord = {
    chatId: newId('ch'),
    tenantId: 'acme',
    metadata: {},
    status: 'open',
    createdBy: 'alice',
    createdAt: now,
    updatedAt: now,
    lastActivityAt: now,
    lastSeq: 0,
  };
  await chats.create(chat, [{ userId: 'alice', role: 'user', joinedAt: now }], {
    userId: 'alice',
    role: 'user',
  });
  return { table, chats, chat };
};

/** What a writer that dies right after step 1 of an append leaves: a reserved seq, nothing else. */
const reserveAndDie = (table: TableContext, chatId: string) =>
  table.doc.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: keys.chat(chatId),
      UpdateExpression: 'ADD lastSeq :one',
      ExpressionAttributeValues: { ':one': 1 },
    }),
  );

const draft = (chatId: string, clientMessageId: string, senderId = 'alice'): MessageDraft => ({
  chatId,
  tenantId: 'acme',
  clientMessageId,
  senderId,
  senderRole: 'user',
  type: 'text',
  text: `hello ${clientMessageId}`,
});

describe('message store against DynamoDB Local', () => {
  it('gives 50 concurrent senders to one chat seq 1..50 with no gap or duplicate', async () => {
    // Prepare: one chat and fifty independent stores (as fifty Lambda containers would be)
    const { table, chat } = await newChat();
    const senders = Array.from({ length: 50 }, (_, i) => ({
      store: new DynamoMessageStore(table),
      id: `c-${i}`,
    }));

    // Act
    const results = await Promise.all(
      senders.map(({ store, id }) => store.append(draft(chat.chatId, id, `u${id}`))),
    );

    // Assess
    const seqs = results.map((result) => result.message.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const stored = await new DynamoMessageStore(table).after(chat.chatId, 0, 100);
    expect(stored.items.map((m) => m.seq)).toEqual(seqs);
    expect(new Set(stored.items.map((m) => m.clientMessageId)).size).toBe(50);
    expect((await new DynamoChatStore(table).get(chat.chatId))?.lastSeq).toBe(50);
  }, 120_000);

  it('answers ten concurrent requests with one clientMessageId with one message; the other seqs are voids', async () => {
    // Prepare
    const { table, chat } = await newChat();

    // Act: ten containers receive the same send at once
    const results = await Promise.all(
      Array.from({ length: 10 }, () => new DynamoMessageStore(table).append(draft(chat.chatId, 'twice'))),
    );

    // Assess: one created, every answer is that message, and the chat's seqs have no hole
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.message.messageId)).size).toBe(1);
    const lastSeq = (await new DynamoChatStore(table).get(chat.chatId))?.lastSeq ?? 0;
    const stored = await new DynamoMessageStore(table).after(chat.chatId, 0, 100);
    expect(stored.items.map((m) => m.seq)).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
    expect(stored.items.filter((m) => !isVoid(m)).map((m) => m.clientMessageId)).toEqual(['twice']);
  }, 60_000);

  it('voids the seq of a writer that died after reserving it, once the hole is old, and never skips it', async () => {
    // Prepare: seq 1 is reserved by a writer that never comes back, then seq 2 is written
    const { table, chat } = await newChat();
    await reserveAndDie(table, chat.chatId);
    await new DynamoMessageStore(table).append(draft(chat.chatId, 'after-the-hole'));

    // Act: a reader now, and a reader once the hole is older than VOID_AFTER_MS
    const early = await new DynamoMessageStore(table).after(chat.chatId, 0, 10);
    const later = new DynamoMessageStore(table, {
      now: () => new Date(Date.now() + VOID_AFTER_MS + 1000),
    });
    const late = await later.after(chat.chatId, 0, 10);

    // Assess
    expect(early.items).toEqual([]);
    expect(late.items.map((m) => [m.seq, isVoid(m)])).toEqual([
      [1, true],
      [2, false],
    ]);
    expect((await new DynamoMessageStore(table).get(chat.chatId, 1))?.system).toEqual({ kind: 'void' });
  });

  it('lets the retry of a send whose writer died after claiming place the message at the claimed seq', async () => {
    // Prepare: a claim for seq 1 with no message (the writer died between claim and message)
    const { table, chat } = await newChat();
    await reserveAndDie(table, chat.chatId);
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...keys.idempotency(chat.chatId, 'alice', 'lost'),
          seq: 1,
          createdAt: new Date().toISOString(),
        },
      }),
    );

    // Act
    const retry = await new DynamoMessageStore(table).append(draft(chat.chatId, 'lost'));

    // Assess
    expect(retry.message.seq).toBe(1);
    expect((await new DynamoMessageStore(table).after(chat.chatId, 0, 10)).items).toEqual([retry.message]);
  });

  it('returns the original message for a retried clientMessageId and writes nothing new', async () => {
    // Prepare
    const { table, chat } = await newChat();
    const store = new DynamoMessageStore(table);
    const first = await store.append(draft(chat.chatId, 'retry-me'));

    // Act: the retry comes from another container (no seq hint) and with a different text
    const retry = await new DynamoMessageStore(table).append({
      ...draft(chat.chatId, 'retry-me'),
      text: 'changed',
    });

    // Assess
    expect(first.created).toBe(true);
    expect(retry.created).toBe(false);
    expect(retry.message).toEqual(first.message);
    expect((await store.after(chat.chatId, 0, 10)).items).toHaveLength(1);
    expect((await new DynamoChatStore(table).get(chat.chatId))?.lastSeq).toBe(1);
  });

  it('reads the stored items of a seq range as the stream carries them, the fan-out’s fields included, and none of a seq not stored', async () => {
    // Prepare: seqs 1 and 2 stored (2 sent over a socket), 3 reserved by a writer that died, 4 stored
    const { table, chat } = await newChat();
    const store = new DynamoMessageStore(table);
    await store.append(draft(chat.chatId, 'one'));
    await store.append(draft(chat.chatId, 'two'), { viaConnectionId: 'conn-2=' });
    await reserveAndDie(table, chat.chatId);
    await store.append(draft(chat.chatId, 'four'));

    // Act
    const items = await store.storedItems(chat.chatId, 2, 4);

    // Assess
    expect(items.map((item) => [item.seq, item.clientMessageId])).toEqual([
      [2, 'two'],
      [4, 'four'],
    ]);
    expect(items[0]).toMatchObject({
      entity: 'message',
      viaConnectionId: 'conn-2=',
      membersVersion: expect.any(Number),
    });
  });

  it('treats the same clientMessageId from two senders as two messages', async () => {
    const { table, chat } = await newChat();
    const store = new DynamoMessageStore(table);

    const a = await store.append(draft(chat.chatId, 'same', 'alice'));
    const b = await store.append(draft(chat.chatId, 'same', 'bob'));

    expect([a.message.seq, b.message.seq]).toEqual([1, 2]);
  });

  it('catches up after a gap: after= returns exactly the missed messages in order, paginated', async () => {
    // Prepare: 25 messages, a reader that saw up to seq 7
    const { table, chat } = await newChat();
    const store = new DynamoMessageStore(table);
    for (let i = 0; i < 25; i++) await store.append(draft(chat.chatId, `m${i}`));

    // Act
    const page1 = await store.after(chat.chatId, 7, 10);
    const page2 = await store.after(chat.chatId, 17, 10);

    // Assess
    expect(page1.items.map((m) => m.seq)).toEqual([8, 9, 10, 11, 12, 13, 14, 15, 16, 17]);
    expect(page1.hasMore).toBe(true);
    expect(page2.items.map((m) => m.seq)).toEqual([18, 19, 20, 21, 22, 23, 24, 25]);
    expect(page2.hasMore).toBe(false);
  });

  it('pages backwards with before= and still returns ascending seq', async () => {
    const { table, chat } = await newChat();
    const store = new DynamoMessageStore(table);
    for (let i = 0; i < 12; i++) await store.append(draft(chat.chatId, `m${i}`));

    const page = await store.before(chat.chatId, 10, 4);

    expect(page.items.map((m) => m.seq)).toEqual([6, 7, 8, 9]);
    expect(page.hasMore).toBe(true);
  });

  it('refuses a message to a chat that does not exist and stores nothing', async () => {
    const table = await dynamo.table();
    const store = new DynamoMessageStore(table);

    await expect(store.append(draft('ch_00000000000000000000', 'x'))).rejects.toMatchObject({ status: 404 });
    expect((await store.after('ch_00000000000000000000', 0, 10)).items).toHaveLength(0);
  });

  it('gives senders in different containers consecutive seqs, whatever each saw last', async () => {
    // Prepare: container A wrote seq 1, container B then writes seq 2 and 3
    const { table, chat } = await newChat();
    const a = new DynamoMessageStore(table);
    const b = new DynamoMessageStore(table);
    await a.append(draft(chat.chatId, 'a1'));
    await b.append(draft(chat.chatId, 'b1'));
    await b.append(draft(chat.chatId, 'b2'));

    // Act
    const next = await a.append(draft(chat.chatId, 'a2'));

    // Assess
    expect(next.message.seq).toBe(4);
  });
});
