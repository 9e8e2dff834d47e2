/** The block store and subscriptions with users against DynamoDB Local. */
import { describe, expect, it } from 'vitest';
import { DynamoBlockStore } from '../../shared/adapters/dynamo/block-store.ts';
import { DynamoConnectionStore } from '../../shared/adapters/dynamo/connection-store.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();

describe('DynamoBlockStore', () => {
  it('stores a block once, keeps the first blockedAt and lists the blocker’s blocks', async () => {
    // Prepare
    const store = new DynamoBlockStore(await dynamo.table());

    // Act
    const first = await store.put('acme', 'alice', 'bob', '2026-11-21T10:00:00.000Z');
    const again = await store.put('acme', 'alice', 'bob', '2026-11-21T11:00:00.000Z');
    await store.put('acme', 'alice', 'carol', '2026-11-21T10:05:00.000Z');
    await store.put('acme', 'dave', 'bob', '2026-11-21T10:06:00.000Z');
    const list = await store.list('acme', 'alice', 50);

    // Assess
    expect(first.created).toBe(true);
    expect(again).toEqual({
      block: { userId: 'bob', blockedAt: '2026-11-21T10:00:00.000Z' },
      created: false,
    });
    expect(list.items).toEqual([
      { userId: 'bob', blockedAt: '2026-11-21T10:00:00.000Z' },
      { userId: 'carol', blockedAt: '2026-11-21T10:05:00.000Z' },
    ]);
    expect(list.nextCursor).toBeUndefined();
  });

  it('pages the list with an opaque cursor and refuses another blocker’s cursor', async () => {
    // Prepare
    const store = new DynamoBlockStore(await dynamo.table());
    for (const userId of ['u1', 'u2', 'u3'])
      await store.put('acme', 'alice', userId, '2026-11-21T10:00:00.000Z');

    // Act
    const page1 = await store.list('acme', 'alice', 2);
    const page2 = await store.list('acme', 'alice', 2, page1.nextCursor);
    const foreign = store.list('acme', 'mallory', 2, page1.nextCursor);

    // Assess
    expect([...page1.items, ...page2.items].map((b) => b.userId)).toEqual(['u1', 'u2', 'u3']);
    await expect(foreign).rejects.toThrow(/cursor/);
  });

  it('keeps each user’s blockers in step with blocks and unblocks, per tenant, repeats included', async () => {
    // Prepare
    const store = new DynamoBlockStore(await dynamo.table());
    await store.put('acme', 'alice', 'bob', '2026-11-21T10:00:00.000Z');
    await store.put('acme', 'alice', 'bob', '2026-11-21T10:01:00.000Z');
    await store.put('acme', 'carol', 'bob', '2026-11-21T10:00:00.000Z');
    await store.put('other', 'dave', 'bob', '2026-11-21T10:00:00.000Z');

    // Act
    const before = await store.blockersOf('acme', 'bob');
    await store.remove('acme', 'alice', 'bob');
    await store.remove('acme', 'alice', 'bob');
    const after = await store.blockersOf('acme', 'bob');
    await store.remove('acme', 'carol', 'bob');
    const none = await store.blockersOf('acme', 'bob');
    const nobody = await store.blockersOf('acme', 'erin');

    // Assess
    expect(before.blockers.sort()).toEqual(['alice', 'carol']);
    expect(after).toEqual({ blockers: ['carol'], overflow: false });
    expect(none).toEqual({ blockers: [], overflow: false });
    expect(nobody).toEqual({ blockers: [], overflow: false });
    expect((await store.blockersOf('other', 'bob')).blockers).toEqual(['dave']);
  });

  it('stays consistent under concurrent blocks and unblocks of one user', async () => {
    // Prepare
    const store = new DynamoBlockStore(await dynamo.table());
    const blockers = Array.from({ length: 20 }, (_, i) => `b${i}`);

    // Act
    await Promise.all(blockers.map((b) => store.put('race', b, 'target', '2026-11-21T10:00:00.000Z')));
    await Promise.all(blockers.filter((_, i) => i % 2 === 0).map((b) => store.remove('race', b, 'target')));
    const summary = await store.blockersOf('race', 'target');
    const listed = await Promise.all(
      blockers.map(async (b) => (await store.list('race', b, 5)).items.length),
    );

    // Assess
    const stillBlocking = blockers.filter((_, i) => listed[i] === 1);
    expect(summary.blockers.sort()).toEqual(stillBlocking.sort());
    expect(stillBlocking).toHaveLength(10);
  });
});

describe('DynamoConnectionStore.subscriberUsers', () => {
  it('returns each subscription with the user that subscribed, and none for old subscriptions', async () => {
    // Prepare
    const store = new DynamoConnectionStore(await dynamo.table());
    const chatId = 'ch_aaaaaaaaaaaaaaaaaaaa';
    await store.subscribe('c1', [chatId], 9_999_999_999, 'alice');
    await store.subscribe('c2', [chatId], 9_999_999_999);

    // Act
    const subscribers = await store.subscriberUsers(chatId);

    // Assess
    expect(subscribers.sort((a, b) => a.connectionId.localeCompare(b.connectionId))).toEqual([
      { connectionId: 'c1', userId: 'alice' },
      { connectionId: 'c2' },
    ]);
    expect(await store.subscribers(chatId)).toHaveLength(2);
  });
});
