/** The quota windows and long-poll leases against DynamoDB Local. */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamo/keys.ts';
import { DynamoQuotaStore } from '../../shared/adapters/dynamo/quota-store.ts';
import { Quotas } from '../../shared/domain/quotas.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();
const visitor = { tenantId: 'acme', userId: 'v-1', role: 'visitor' } as const;

describe('DynamoQuotaStore', () => {
  it('counts concurrent requests exactly: the first `limit` pass, the rest are refused and write nothing', async () => {
    // Prepare
    const table = await dynamo.table();
    const store = new DynamoQuotaStore(table);

    // Act
    const results = await Promise.all(
      Array.from({ length: 40 }, () => store.take('acme#visitor#v-1#chats', 3600, 25, 7260)),
    );
    const item = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.quota('acme#visitor#v-1#chats', 3600) }),
    );

    // Assess
    expect(results.filter(Boolean)).toHaveLength(25);
    expect(item.Item).toMatchObject({ hits: 25, ttl: 7260 });
  });

  it('counts each window and each key apart', async () => {
    // Prepare
    const store = new DynamoQuotaStore(await dynamo.table());
    await store.take('k1', 0, 1, 100);

    // Act
    const sameWindow = await store.take('k1', 0, 1, 100);
    const nextWindow = await store.take('k1', 10, 1, 100);
    const otherKey = await store.take('k2', 0, 1, 100);

    // Assess
    expect([sameWindow, nextWindow, otherKey]).toEqual([false, true, true]);
  });

  it('hands out at most `bound` concurrent leases and takes one back on release, never below zero', async () => {
    // Prepare
    const table = await dynamo.table();
    const store = new DynamoQuotaStore(table);

    // Act
    const taken = await Promise.all(Array.from({ length: 12 }, () => store.acquire('lp', 7, 4, 999)));
    await store.release('lp', 7);
    const afterRelease = await store.acquire('lp', 7, 4, 999);
    const full = await store.acquire('lp', 7, 4, 999);
    for (let i = 0; i < 6; i++) await store.release('lp', 7);
    await store.release('never-taken', 7);
    const left = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.lease('lp', 7) }),
    );
    const ghost = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.lease('never-taken', 7) }),
    );

    // Assess
    expect(taken.filter(Boolean)).toHaveLength(4);
    expect([afterRelease, full]).toEqual([true, false]);
    expect(left.Item?.hits).toBe(0);
    expect(ghost.Item).toBeUndefined();
  });

  it('refuses the request past a quota with the seconds left in its window, through the domain', async () => {
    // Prepare
    const now = new Date('2026-12-04T10:00:07.000Z');
    const quotas = new Quotas(
      new DynamoQuotaStore(await dynamo.table()),
      { now: () => now },
      {
        chats: { limit: 2, windowSeconds: 60 },
        messages: undefined,
        sockets: undefined,
        uploads: undefined,
        systemEvents: undefined,
      },
    );
    await quotas.take('chats', visitor);
    await quotas.take('chats', visitor);

    // Act
    const third = quotas.take('chats', visitor);

    // Assess
    await expect(third).rejects.toMatchObject({ status: 429, code: 'rate_limited', retryAfterSeconds: 53 });
  });
});
