/** Chat filters answered by the metadata GSIs, against DynamoDB Local (docs/data-model.md, "Metadata filters"). */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import type { TableContext } from '../../shared/adapters/dynamo/client.ts';
import { chatItem } from '../../shared/adapters/dynamo/metadata-index.ts';
import { type ChatFilter, parseListChatsQuery } from '../../shared/domain/chat-filter.ts';
import { ChatService } from '../../shared/domain/chats.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import type { AttachmentStore, MessageStore } from '../../shared/domain/ports.ts';
import type { ChatRecord } from '../../shared/domain/schemas.ts';
import { dynamoForFile, measuredTable } from '../support/dynamo.ts';

const dynamo = dynamoForFile();

const t0 = Date.parse('2026-11-21T10:00:00.000Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();
const MINUTE = 60_000;
let counter = 0;
const nextChatId = () => `ch_${(++counter).toString().padStart(20, '0')}`;

const record = (
  tenantId: string,
  minute: number,
  metadata: Record<string, unknown>,
  extra: Partial<ChatRecord> = {},
): ChatRecord => ({
  chatId: nextChatId(),
  tenantId,
  metadata: metadata as ChatRecord['metadata'],
  status: 'open',
  createdBy: 'alice',
  createdAt: at(minute * MINUTE),
  updatedAt: at(minute * MINUTE),
  lastActivityAt: at(minute * MINUTE),
  lastSeq: 0,
  ...extra,
});

const create = async (store: DynamoChatStore, chat: ChatRecord, members = ['alice']) => {
  await store.create(
    chat,
    members.map((userId) => ({ userId, role: 'user' as const, joinedAt: chat.createdAt })),
    { userId: 'alice', role: 'user' },
  );
  return chat.chatId;
};

const filter = (query: Record<string, string>): { filter: ChatFilter; limit: number } =>
  parseListChatsQuery(query);
const ids = (page: { items: ChatRecord[] }) => page.items.map((chat) => chat.chatId);

describe('chat filters answered by metadata indexes', () => {
  it('answers eq on an indexed key newest activity first, paginated with a cursor, moved by activity', async () => {
    // Prepare: three chats of project 123 at minutes 1, 2, 3 (one holds the number, one number text) and a decoy
    const store = new DynamoChatStore(await dynamo.table());
    const oldest = await create(store, record('acme', 1, { project_id: 123 }));
    const middle = await create(store, record('acme', 2, { project_id: '123' }));
    const newest = await create(store, record('acme', 3, { project_id: 123 }));
    await create(store, record('acme', 4, { project_id: 124 }));
    await create(store, record('other', 5, { project_id: 123 }));
    const { filter: eq } = filter({ metadata__project_id: '123' });

    // Act
    const first = await store.listFiltered({ tenantId: 'acme', filter: eq, limit: 2 });
    const second = await store.listFiltered({
      tenantId: 'acme',
      filter: eq,
      limit: 2,
      cursor: first.nextCursor,
    });
    await store.touchActivity(oldest, at(10 * MINUTE));
    const moved = await store.listFiltered({ tenantId: 'acme', filter: eq, limit: 1 });

    // Assess
    expect(ids(first)).toEqual([newest, middle]);
    expect(first.nextCursor).toBeDefined();
    expect(ids(second)).toEqual([oldest]);
    expect(second.nextCursor).toBeUndefined();
    expect(ids(moved)).toEqual([oldest]);
  });

  it('answers gte and between on a numeric indexed key through the range index, pages sorted by activity', async () => {
    // Prepare: priorities 1..6, the highest priority the oldest activity
    const store = new DynamoChatStore(await dynamo.table());
    const byPriority = new Map<number, string>();
    for (let priority = 1; priority <= 6; priority++) {
      const value = priority === 5 ? '5' : priority;
      byPriority.set(priority, await create(store, record('acme', 10 - priority, { priority: value })));
    }
    await create(store, record('acme', 20, { priority: 'urgent' }));

    // Act
    const gte = await store.listFiltered({ tenantId: 'acme', ...filter({ metadata__priority__gte: '4' }) });
    const between = await store.listFiltered({
      tenantId: 'acme',
      ...filter({ metadata__priority__between: '2,3.5' }),
    });
    const lt = await store.listFiltered({ tenantId: 'acme', ...filter({ metadata__priority__lt: '2' }) });
    const prefix = await store.listFiltered({
      tenantId: 'acme',
      ...filter({ metadata__priority__begins_with: 'urg' }),
    });

    // Assess
    expect(ids(gte)).toEqual([4, 5, 6].map((p) => byPriority.get(p)));
    expect(ids(between)).toEqual([2, 3].map((p) => byPriority.get(p)));
    expect(ids(lt)).toEqual([byPriority.get(1)]);
    expect(prefix.items.map((chat) => chat.metadata.priority)).toEqual(['urgent']);
  });

  it('applies status, non-indexed keys, contains, exists and in on top of the index', async () => {
    // Prepare
    const store = new DynamoChatStore(await dynamo.table());
    const p = { project_id: 'p1' };
    const match = await create(
      store,
      record('acme', 1, {
        ...p,
        color: 'red',
        tags: ['vip'],
        customer: { tier: 'gold' },
        department: 'sales',
      }),
    );
    await create(
      store,
      record(
        'acme',
        2,
        { ...p, color: 'red', tags: ['vip'], customer: { tier: 'gold' }, department: 'sales' },
        {
          status: 'closed',
        },
      ),
    );
    await create(
      store,
      record('acme', 3, { ...p, color: 'blue', tags: ['vip'], customer: { tier: 'gold' } }),
    );
    await create(store, record('acme', 4, { ...p, color: 'red', tags: [], customer: { tier: 'gold' } }));
    await create(store, record('acme', 5, { ...p, color: 'red', tags: ['vip'] }));
    await create(
      store,
      record('acme', 6, { ...p, color: 'red', tags: ['vip'], customer: { tier: 'gold' }, department: 'hr' }),
    );

    // Act
    const page = await store.listFiltered({
      tenantId: 'acme',
      ...filter({
        metadata__project_id: 'p1',
        status: 'open',
        metadata__color: 'red',
        metadata__tags__contains: 'vip',
        'metadata__customer.tier__exists': 'true',
        metadata__department__in: 'sales,support',
      }),
    });
    const closed = await store.listFiltered({
      tenantId: 'acme',
      ...filter({ metadata__project_id: 'p1', status: 'closed' }),
    });

    // Assess
    expect(ids(page)).toEqual([match]);
    expect(closed.items).toHaveLength(1);
  });

  it('lists a user only their own chats, and a staff participant filter through that participant’s list', async () => {
    // Prepare
    const store = new DynamoChatStore(await dynamo.table());
    const shared = await create(store, record('acme', 1, { project_id: 'x' }), ['alice', 'bob']);
    const alices = await create(store, record('acme', 2, { project_id: 'x' }), ['alice']);
    await create(store, record('acme', 3, { project_id: 'x' }), ['carol']);
    const { filter: byProject } = filter({ metadata__project_id: 'x' });

    // Act
    const own = await store.listFiltered({ tenantId: 'acme', member: 'alice', filter: byProject, limit: 20 });
    const withBob = await store.listFiltered({
      tenantId: 'acme',
      member: 'alice',
      filter: { ...byProject, participant: 'bob' },
      limit: 20,
    });
    const staff = await store.listFiltered({
      tenantId: 'acme',
      filter: { ...byProject, participant: 'bob' },
      limit: 20,
    });

    // Assess
    expect(ids(own)).toEqual([alices, shared]);
    expect(ids(withBob)).toEqual([shared]);
    expect(ids(staff)).toEqual([shared]);
  });

  it('re-indexes a chat when its metadata changes and drops the keys it no longer has', async () => {
    // Prepare
    const store = new DynamoChatStore(await dynamo.table());
    const chatId = await create(store, record('acme', 1, { project_id: 'old', department: 'sales' }));

    // Act
    await store.change(chatId, { userId: 'agent-1', role: 'agent' }, () => ({
      set: { metadata: { project_id: 'new' } },
      event: { type: 'chat.updated' },
      audit: { action: 'chat.update' },
    }));
    const list = (query: Record<string, string>) =>
      store.listFiltered({ tenantId: 'acme', ...filter(query) });

    // Assess
    expect(ids(await list({ metadata__project_id: 'new' }))).toEqual([chatId]);
    expect(ids(await list({ metadata__project_id: 'old' }))).toEqual([]);
    expect(ids(await list({ metadata__department: 'sales' }))).toEqual([]);
  });

  it('refuses a filter with no indexed key and no standard field, naming the indexed keys', async () => {
    // Prepare
    const store = new DynamoChatStore(await dynamo.table());
    const service = new ChatService(store, {} as MessageStore, {} as AttachmentStore, {
      now: () => new Date(),
    });
    const agent = { tenantId: 'acme', userId: 'agent-1', role: 'agent' as const };

    // Act
    const refused = service.list(agent, 20, undefined, filter({ metadata__color: 'red' }).filter);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(refused).rejects.toThrow(/project_id, department, priority/);
  });
});

const measured = (table: TableContext) => {
  const { context, measure } = measuredTable(table, dynamo.endpoint);
  return { store: new DynamoChatStore(context), measure };
};

const load = async (table: TableContext, chats: ChatRecord[]) => {
  const batches: ChatRecord[][] = [];
  for (let i = 0; i < chats.length; i += 25) batches.push(chats.slice(i, i + 25));
  const worker = async () => {
    for (let batch = batches.shift(); batch; batch = batches.shift()) {
      let pending = batch.map((chat) => ({ PutRequest: { Item: chatItem(chat) } }));
      while (pending.length > 0) {
        const result = await table.doc.send(
          new BatchWriteCommand({ RequestItems: { [table.tableName]: pending } }),
        );
        pending = (result.UnprocessedItems?.[table.tableName] ?? []) as typeof pending;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
};

describe('cost of a filter as the table grows', () => {
  it(
    'reads the same capacity units for a 20-result filter at 1,000 and at 10,000 chats',
    { timeout: 240_000 },
    async () => {
      // Prepare: chats spread over 25 projects, with some metadata weight
      const table = await dynamo.table();
      const { store, measure } = measured(table);
      const chats = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) =>
          record('big', from + i, {
            project_id: `p${(from + i) % 25}`,
            priority: (from + i) % 7,
            note: 'x'.repeat(200),
          }),
        );
      const queries = {
        eq: filter({ metadata__project_id: 'p7' }),
        eqWithStatus: filter({ metadata__project_id: 'p7', status: 'open' }),
        range: filter({ metadata__priority__gte: '5' }),
      };
      const run = async () => {
        const out: Record<string, { units: number; results: number }> = {};
        for (const [name, query] of Object.entries(queries)) {
          const { result, units } = await measure(() => store.listFiltered({ tenantId: 'big', ...query }));
          out[name] = { units, results: result.items.length };
        }
        return out;
      };

      // Act
      await load(table, chats(0, 1_000));
      const small = await run();
      await load(table, chats(1_000, 10_000));
      const large = await run();

      // Assess
      console.info('consumed capacity units at 1,000 and 10,000 chats', { small, large });
      for (const name of Object.keys(queries)) {
        expect(small[name]?.results).toBe(20);
        expect(small[name]?.units).toBeGreaterThan(0);
        expect(large[name]).toEqual(small[name]);
      }
    },
  );
});
