import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  ACTIVITY_RESOLUTION_MS,
  participantResolutionMs,
} from '../../shared/adapters/dynamo/chat-activity.ts';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import type { TableContext } from '../../shared/adapters/dynamo/client.ts';
import { DynamoMessageStore } from '../../shared/adapters/dynamo/message-store.ts';
import { newId } from '../../shared/domain/ids.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();

const t0 = Date.parse('2026-11-21T10:00:00.000Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();

const setup = async () => {
  const table = await dynamo.table();
  const store = new DynamoChatStore(table);
  const chatId = newId('ch');
  const base = { tenantId: 'acme', metadata: {}, status: 'open' as const, createdBy: 'alice', lastSeq: 0 };
  await store.create(
    { ...base, chatId, createdAt: at(0), updatedAt: at(0), lastActivityAt: at(0) },
    [
      { userId: 'alice', role: 'user', joinedAt: at(0) },
      { userId: 'bob', role: 'user', joinedAt: at(0) },
    ],
    { userId: 'alice', role: 'user' },
  );
  return { table, store, chatId };
};

const listPosition = async (table: TableContext, chatId: string, userId: string) =>
  (
    await table.doc.send(
      new GetCommand({
        TableName: table.tableName,
        Key: { pk: `CHAT#${chatId}`, sk: `PART#${userId}` },
        ConsistentRead: true,
      }),
    )
  ).Item?.gsi1sk;

describe('chat store against DynamoDB Local', () => {
  it('moves a chat up its participants’ lists only when it is more than the resolution behind', async () => {
    // Prepare
    const { table, store, chatId } = await setup();

    // Act + Assess: within the resolution nothing is written, past it every participant moves
    await store.touchActivity(chatId, at(ACTIVITY_RESOLUTION_MS - 1));
    expect(await listPosition(table, chatId, 'bob')).toBe(`${at(0)}#${chatId}`);
    await store.touchActivity(chatId, at(ACTIVITY_RESOLUTION_MS + 1));
    expect(await listPosition(table, chatId, 'alice')).toBe(`${at(ACTIVITY_RESOLUTION_MS + 1)}#${chatId}`);
    expect(await listPosition(table, chatId, 'bob')).toBe(`${at(ACTIVITY_RESOLUTION_MS + 1)}#${chatId}`);
  });

  it('moves a big chat up its members’ lists at a coarser resolution, and its tenant list at the usual one', async () => {
    // Prepare: 50 participants, so their positions move at most every 50 s
    const table = await dynamo.table();
    const store = new DynamoChatStore(table);
    const chatId = newId('ch');
    const members = Array.from({ length: 50 }, (_, i) => ({
      userId: `member${i}`,
      role: 'user' as const,
      joinedAt: at(0),
    }));
    await store.create(
      {
        tenantId: 'big',
        metadata: {},
        status: 'open',
        createdBy: 'member0',
        lastSeq: 0,
        chatId,
        createdAt: at(0),
        updatedAt: at(0),
        lastActivityAt: at(0),
      },
      members,
      { userId: 'member0', role: 'user' },
    );
    const tenantPosition = async () =>
      (
        await table.doc.send(
          new GetCommand({
            TableName: table.tableName,
            Key: { pk: `CHAT#${chatId}`, sk: 'CHAT' },
            ConsistentRead: true,
          }),
        )
      ).Item?.gsi2sk;
    expect(participantResolutionMs(50)).toBe(5 * ACTIVITY_RESOLUTION_MS);

    // Act + Assess: past 10 s the tenant list moves, the members' lists do not; past 50 s they do
    await store.touchActivity(chatId, at(ACTIVITY_RESOLUTION_MS + 1));
    expect(await tenantPosition()).toBe(`${at(ACTIVITY_RESOLUTION_MS + 1)}#${chatId}`);
    expect(await listPosition(table, chatId, 'member7')).toBe(`${at(0)}#${chatId}`);
    await new DynamoChatStore(table).touchActivity(chatId, at(5 * ACTIVITY_RESOLUTION_MS - 1));
    expect(await listPosition(table, chatId, 'member7')).toBe(`${at(0)}#${chatId}`);
    await new DynamoChatStore(table).touchActivity(chatId, at(5 * ACTIVITY_RESOLUTION_MS + 1));
    expect(await listPosition(table, chatId, 'member7')).toBe(
      `${at(5 * ACTIVITY_RESOLUTION_MS + 1)}#${chatId}`,
    );
    expect(await listPosition(table, chatId, 'member49')).toBe(
      `${at(5 * ACTIVITY_RESOLUTION_MS + 1)}#${chatId}`,
    );
  });

  it('moves a chat up its tenant’s list (agents) past the resolution, sorting each page by exact activity', async () => {
    // Prepare: two chats of a fresh tenant; the older one gets activity a minute later
    const table = await dynamo.table();
    const store = new DynamoChatStore(table);
    const base = { tenantId: 'fresh', metadata: {}, status: 'open' as const, createdBy: 'alice', lastSeq: 0 };
    const older = newId('ch');
    const newer = newId('ch');
    await store.create(
      { ...base, chatId: older, createdAt: at(0), updatedAt: at(0), lastActivityAt: at(0) },
      [],
      { userId: 'alice', role: 'user' },
    );
    await store.create(
      { ...base, chatId: newer, createdAt: at(1), updatedAt: at(1), lastActivityAt: at(1) },
      [],
      { userId: 'alice', role: 'user' },
    );

    // Act: a message a minute later, then the fan-out's touch
    const messages = new DynamoMessageStore(table, { now: () => new Date(at(60_000)) });
    const { message } = await messages.append({
      chatId: older,
      tenantId: 'fresh',
      clientMessageId: 'c1',
      senderId: 'alice',
      senderRole: 'user',
      type: 'text',
      text: 'hi',
    });
    await store.touchActivity(older, message.createdAt);
    const firstOfOne = await store.listForTenant('fresh', 1);
    const page = await store.listForTenant('fresh', 10);

    // Assess: a one-chat page is decided by the index alone, a full page by the exact time
    expect(firstOfOne.items.map((chat) => chat.chatId)).toEqual([older]);
    expect(page.items.map((chat) => chat.chatId)).toEqual([older, newer]);
  });

  it('skips the list reads for activity within the resolution of the positions it last saw', async () => {
    // Prepare: a store whose calls are counted
    const { table, chatId } = await setup();
    let calls = 0;
    const counted = {
      ...table,
      doc: new Proxy(table.doc, {
        get: (target, name, receiver) =>
          name === 'send'
            ? (...args: Parameters<typeof target.send>) => {
                calls++;
                return target.send(...args);
              }
            : Reflect.get(target, name, receiver),
      }),
    } as TableContext;
    const store = new DynamoChatStore(counted);

    // Act: a busy minute, one message a second
    await store.touchActivity(chatId, at(30_000));
    const afterFirst = calls;
    for (let second = 31; second <= 45; second++) await store.touchActivity(chatId, at(second * 1000));

    // Assess: the first touch reads (chat, participants) and moves the chat and both participants; the
    // touches of the next 9 s read nothing; at 40 s (exactly the resolution, so nothing is behind) it
    // reads again, at 41 s it reads and moves all three, and the rest of the window reads nothing
    expect(afterFirst).toBe(2 + 3);
    expect(calls - afterFirst).toBe(2 + (2 + 3));
    expect(await listPosition(table, chatId, 'bob')).toBe(`${at(41_000)}#${chatId}`);
  });

  it('still moves a chat whose positions another process left behind', async () => {
    // Prepare: this store last moved the chat at 30 s; another container moves it to 50 s and
    // a participant joins later, positioned at the chat's activity then
    const { table, store, chatId } = await setup();
    await store.touchActivity(chatId, at(30_000));
    await new DynamoChatStore(table).touchActivity(chatId, at(50_000));

    // Act: activity at 70 s reaches this store
    await store.touchActivity(chatId, at(70_000));

    // Assess
    expect(await listPosition(table, chatId, 'alice')).toBe(`${at(70_000)}#${chatId}`);
  });

  it('never moves a chat back in a list when an old record is replayed', async () => {
    const { table, store, chatId } = await setup();
    await store.touchActivity(chatId, at(60_000));

    await store.touchActivity(chatId, at(20_000));

    expect(await listPosition(table, chatId, 'alice')).toBe(`${at(60_000)}#${chatId}`);
  });

  it('lists a participant’s chats newest activity first, paginated with a cursor that cannot be swapped', async () => {
    // Prepare: three chats for alice, touched at increasing times
    const table = await dynamo.table();
    const store = new DynamoChatStore(table);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const chatId = newId('ch');
      ids.push(chatId);
      const base = {
        tenantId: 'acme',
        metadata: {},
        status: 'open' as const,
        createdBy: 'alice',
        lastSeq: 0,
      };
      await store.create(
        { ...base, chatId, createdAt: at(0), updatedAt: at(0), lastActivityAt: at(0) },
        [{ userId: 'alice', role: 'user', joinedAt: at(0) }],
        { userId: 'alice', role: 'user' },
      );
      await store.touchActivity(chatId, at(60_000 * (i + 1)));
    }

    // Act
    const first = await store.listForParticipant('acme', 'alice', 2);
    const second = await store.listForParticipant('acme', 'alice', 2, first.nextCursor);
    const swapped = store.listForParticipant('acme', 'mallory', 2, first.nextCursor);

    // Assess
    expect([...first.items, ...second.items].map((c) => c.chatId)).toEqual([ids[2], ids[1], ids[0]]);
    await expect(swapped).rejects.toMatchObject({ status: 400 });
  });
});
