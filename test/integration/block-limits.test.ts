/** The block store's bounds against DynamoDB Local: the blocker's list and the blocked user's summary. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoBlockStore } from '../../shared/adapters/dynamo/block-store.ts';
import { keys } from '../../shared/adapters/dynamo/keys.ts';
import { ConflictError } from '../../shared/domain/errors.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();
const AT = '2026-12-04T10:00:00.000Z';

describe('DynamoBlockStore bounds', () => {
  it('refuses a block past the blocker’s limit with 409 and writes nothing; a repeat and an unblock still work', async () => {
    // Prepare
    const table = await dynamo.table();
    const store = new DynamoBlockStore(table);
    for (const userId of ['u1', 'u2', 'u3']) await store.put('acme', 'alice', userId, AT, 3);

    // Act
    const fourth = await store.put('acme', 'alice', 'u4', AT, 3).catch((error: unknown) => error);
    const repeat = await store.put('acme', 'alice', 'u2', AT, 3);
    const removed = await store.remove('acme', 'alice', 'u1');
    const removedAgain = await store.remove('acme', 'alice', 'u1');
    const afterUnblock = await store.put('acme', 'alice', 'u4', AT, 3);
    const stray = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.block('acme', 'alice', 'u4') }),
    );

    // Assess
    expect(fourth).toBeInstanceOf(ConflictError);
    expect(fourth).toMatchObject({ status: 409 });
    expect(repeat.created).toBe(false);
    expect([removed, removedAgain]).toEqual([true, false]);
    expect(afterUnblock.created).toBe(true);
    expect(stray.Item).toBeDefined();
    expect((await store.blockersOf('acme', 'u4')).blockers).toEqual(['alice']);
    expect((await store.list('acme', 'alice', 10)).items.map((b) => b.userId)).toEqual(['u2', 'u3', 'u4']);
  });

  it('keeps the summary of a user blocked by many bounded, says it overflows, and still finds every blocker', async () => {
    // Prepare: a summary of at most 3 names; five sock puppets block the target.
    const table = await dynamo.table();
    const store = new DynamoBlockStore(table, 3);
    const puppets = ['p1', 'p2', 'p3', 'p4', 'p5'];

    // Act
    for (const puppet of puppets) await store.put('acme', puppet, 'target', AT);
    await store.put('acme', 'p5', 'target', AT);
    const summary = await store.blockersOf('acme', 'target');
    const item = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.blockers('acme', 'target') }),
    );
    const byUnnamed = await store.hasBlocked('acme', ['someone', 'p5'], 'target');
    const byNobody = await store.hasBlocked('acme', ['someone', 'else'], 'target');

    // Assess
    expect(summary.blockers.sort()).toEqual(['p1', 'p2', 'p3']);
    expect(summary.overflow).toBe(true);
    expect((item.Item?.blockers as Set<string>).size).toBe(3);
    expect(byUnnamed).toBe(true);
    expect(byNobody).toBe(false);
  });
});
