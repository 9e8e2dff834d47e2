/**
 * The metadata backfill against DynamoDB Local: chats indexed under [project_id, department] are
 * re-indexed for [department, region] (docs/data-model.md, "Metadata filters").
 */
import { QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { runBackfillCli } from '../../infra/backfill-metadata-cli.ts';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import { createTableContext, type TableContext } from '../../shared/adapters/dynamo/client.ts';
import { backfillMetadata } from '../../shared/adapters/dynamo/metadata-backfill.ts';
import { parseListChatsQuery } from '../../shared/domain/chat-filter.ts';
import { ChatService } from '../../shared/domain/chats.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import type { AttachmentStore, MessageStore } from '../../shared/domain/ports.ts';
import type { ChatRecord } from '../../shared/domain/schemas.ts';
import { dynamoForFile } from '../support/dynamo.ts';
import { chatRecord } from '../support/fixtures.ts';

const dynamo = dynamoForFile();

const OLD_KEYS = ['project_id', 'department'];
const NEW_KEYS = ['department', 'region'];
const t0 = Date.parse('2026-11-21T10:00:00.000Z');
const MINUTE = 60_000;
const record = (tenantId: string, minute: number, metadata: Record<string, unknown>): ChatRecord =>
  chatRecord(t0 + minute * MINUTE, { tenantId, metadata: metadata as ChatRecord['metadata'] });
const create = async (store: DynamoChatStore, chat: ChatRecord): Promise<string> => {
  await store.create(chat, [{ userId: 'alice', role: 'user', joinedAt: chat.createdAt }], {
    userId: 'alice',
    role: 'user',
  });
  return chat.chatId;
};
const list = async (store: DynamoChatStore, query: Record<string, string>, tenantId = 'acme') =>
  (await store.listFiltered({ tenantId, ...parseListChatsQuery(query) })).items.map((chat) => chat.chatId);
const scanAll = async (table: TableContext): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.doc.send(
      new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
};
const rowsOf = async (table: TableContext, indexName: string, pkAttr: string, partition: string) =>
  (
    await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: indexName,
        KeyConditionExpression: '#pk = :p',
        ExpressionAttributeNames: { '#pk': pkAttr },
        ExpressionAttributeValues: { ':p': partition },
      }),
    )
  ).Items ?? [];

describe('backfill-metadata', () => {
  it('re-indexes chats for new keys: filters on the new key work, the moved key still works, the removed key is gone, a second run and a dry run write nothing', async () => {
    // Prepare: chats indexed under [project_id, department] (one also under a third slot, by an older
    // configuration), one value that has become an object, and 30 more chats for many Scan pages
    const table = await dynamo.table(OLD_KEYS);
    const old = new DynamoChatStore(table, OLD_KEYS);
    const euSales = await create(
      old,
      record('acme', 1, { project_id: 'p1', department: 'sales', region: 'eu' }),
    );
    const usSupport = await create(
      old,
      record('acme', 2, { project_id: 'p1', department: 'support', region: 'us' }),
    );
    const euSalesNoProject = await create(old, record('acme', 3, { department: 'sales', region: 'eu' }));
    const nestedRegion = await create(old, record('acme', 4, { project_id: 'p2', region: { code: 'eu' } }));
    await create(old, record('acme', 5, { other: 'x' }));
    await create(old, record('globex', 6, { department: 'sales', region: 'eu' }));
    const threeSlots = await create(
      new DynamoChatStore(table, [...OLD_KEYS, 'priority']),
      record('acme', 7, { project_id: 'p3', priority: 2, region: 'apac' }),
    );
    const becameObject = await create(old, record('acme', 8, { department: 'legal' }));
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: { pk: `CHAT#${becameObject}`, sk: 'CHAT' },
        UpdateExpression: 'SET metadata = :m',
        ExpressionAttributeValues: { ':m': { department: { name: 'legal' } } },
      }),
    );
    for (let i = 0; i < 30; i++) await create(old, record('bulk', 10 + i, { project_id: `b${i % 3}` }));
    const chats = 38;
    const indexedBefore = 37; // every chat but the one without any indexed key
    const store = new DynamoChatStore(table, NEW_KEYS);
    const regionBefore = await list(store, { metadata__region: 'eu' });
    const departmentBefore = await list(store, { metadata__department: 'sales' });
    const snapshot = await scanAll(table);

    // Act: a dry run through the command line, then the backfill twice
    const out: string[] = [];
    const err: string[] = [];
    const dryRun = await runBackfillCli(
      ['--table', table.tableName, '--endpoint', dynamo.endpoint, '--keys', NEW_KEYS.join(','), '--dry-run'],
      { out: (line) => out.push(line), err: (line) => err.push(line), env: {}, backfill: { pageSize: 4 } },
    );
    const afterDryRun = await scanAll(table);
    const first = await backfillMetadata(table, { keys: NEW_KEYS, segments: 3, pageSize: 4 });
    const second = await backfillMetadata(table, { keys: NEW_KEYS, segments: 2, pageSize: 5 });

    // Assess: before, the new configuration found nothing; the dry run counted and wrote nothing
    expect(regionBefore).toEqual([]);
    expect(departmentBefore).toEqual([]);
    expect(dryRun).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toContain(`keys department, region (--keys), 4 segment(s), dry run`);
    expect(out[1]).toMatch(
      new RegExp(
        `^scanned ${chats} {2}would update ${indexedBefore} {2}unchanged 1 {2}retried 0 {2}skipped 0 {2}failed 0`,
      ),
    );
    expect(afterDryRun).toEqual(snapshot);
    // the backfill updated every chat once, the second run nothing
    expect(first).toEqual({
      scanned: chats,
      updated: indexedBefore,
      unchanged: 1,
      retried: 0,
      skipped: 0,
      failed: 0,
      throttled: 0,
    });
    expect(second).toMatchObject({ scanned: chats, updated: 0, unchanged: chats, failed: 0 });
    // filters on the new key, newest activity first, by equality and by prefix (range index)
    expect(await list(store, { metadata__region: 'eu' })).toEqual([euSalesNoProject, euSales]);
    expect(await list(store, { metadata__region: 'us' })).toEqual([usSupport]);
    expect(await list(store, { metadata__region: 'apac' })).toEqual([threeSlots]);
    expect(await list(store, { metadata__region__begins_with: 'e' })).toEqual([euSalesNoProject, euSales]);
    expect(await list(store, { metadata__region: 'eu' }, 'globex')).toHaveLength(1);
    // the key that moved from slot 2 to slot 1
    expect(await list(store, { metadata__department: 'sales' })).toEqual([euSalesNoProject, euSales]);
    expect(await list(store, { metadata__department: 'support' })).toEqual([usSupport]);
    expect(await list(store, { metadata__department__begins_with: 's' })).toEqual([
      euSalesNoProject,
      usSupport,
      euSales,
    ]);
    expect(await list(store, { metadata__department: 'legal' })).toEqual([]);
    // nothing indexed under the removed key, nothing left in a slot beyond the key count
    for (const slot of [1, 2]) {
      expect(await rowsOf(table, `byMeta${slot}`, `md${slot}pk`, 'MD#acme#project_id#p1')).toEqual([]);
      expect(await rowsOf(table, `byMetaRange${slot}`, `mr${slot}pk`, 'MDR#acme#project_id')).toEqual([]);
      expect(await rowsOf(table, `byMetaRange${slot}`, `mr${slot}pk`, 'MDR#bulk#project_id')).toEqual([]);
    }
    const chatItems = (await scanAll(table)).filter((item) => item.entity === 'chat');
    expect(chatItems).toHaveLength(chats);
    for (const item of chatItems) {
      const slotValues = Object.entries(item).filter(([name]) => /^m[dr]\d+[ps]k$/.test(name));
      expect(slotValues.filter(([, value]) => String(value).includes('#project_id'))).toEqual([]);
      expect(slotValues.filter(([name]) => !/^m[dr][12][ps]k$/.test(name))).toEqual([]);
      if (item.chatId === nestedRegion || item.chatId === becameObject) expect(slotValues).toEqual([]);
    }
    // and the service now names the new keys when a filter has none of them
    const service = new ChatService(store, {} as MessageStore, {} as AttachmentStore, {
      now: () => new Date(),
    });
    const refused = service.list(
      { tenantId: 'acme', userId: 'agent-1', role: 'agent' },
      20,
      undefined,
      parseListChatsQuery({ metadata__project_id: 'p1' }).filter,
    );
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toThrow(/\(department, region\)/);
  });

  it('never overwrites a concurrent metadata change with what it read: the update is refused and planned again', async () => {
    // Prepare: a chat under the old keys; while the backfill is about to write it, a function still on
    // the old configuration changes its metadata
    const table = await dynamo.table(OLD_KEYS);
    const old = new DynamoChatStore(table, OLD_KEYS);
    const chatId = await create(
      old,
      record('acme', 1, { project_id: 'p1', department: 'sales', region: 'eu' }),
    );
    const racing = createTableContext(table.tableName, dynamo.endpoint);
    let raced = false;
    racing.doc.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { UpdateExpression?: string; Key?: { pk?: string } };
        if (!raced && input.UpdateExpression && input.Key?.pk === `CHAT#${chatId}`) {
          raced = true;
          await old.change(chatId, { userId: 'agent-1', role: 'agent' }, () => ({
            set: { metadata: { project_id: 'p1', department: 'support', region: 'us' } },
            event: { type: 'chat.updated' },
            audit: { action: 'chat.update' },
          }));
        }
        return next(args);
      },
      { step: 'initialize', name: 'concurrentChange' },
    );

    // Act
    const counts = await backfillMetadata(racing, { keys: NEW_KEYS, segments: 1 });

    // Assess
    const store = new DynamoChatStore(table, NEW_KEYS);
    expect(raced).toBe(true);
    expect(counts).toMatchObject({ scanned: 1, updated: 1, retried: 1, failed: 0 });
    expect(await list(store, { metadata__department: 'support' })).toEqual([chatId]);
    expect(await list(store, { metadata__region: 'us' })).toEqual([chatId]);
    expect(await list(store, { metadata__department: 'sales' })).toEqual([]);
    expect(await list(store, { metadata__region: 'eu' })).toEqual([]);
  });
});
