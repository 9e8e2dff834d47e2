/**
 * The tenant's chat change log against DynamoDB Local: DynamoChatStore writes a creation record and
 * the chat.updated / chat.assigned / chat.closed events with the log's keys, in the same transaction
 * as the change; DynamoChatChangeStore reads them back through GSI byTenantChanges as the envelopes
 * watching sockets get; ChatListFeed turns them into a poller's live list. Plus what a poll costs.
 */
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoChatChangeStore } from '../../shared/adapters/dynamo/chat-change-store.ts';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import { createTableContext, indexNotReady, type TableContext } from '../../shared/adapters/dynamo/client.ts';
import { ChatListFeed, chatCreatedEnvelope } from '../../shared/domain/chat-list-feed.ts';
import { chatEventEnvelope } from '../../shared/domain/envelopes.ts';
import { BusyError } from '../../shared/domain/errors.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import { systemClock } from '../../shared/domain/ports.ts';
import { bareTableInput, dynamoForFile, measuredTable } from '../support/dynamo.ts';
import { chatRecord } from '../support/fixtures.ts';

const dynamo = dynamoForFile();

const agent = { userId: 'agent-1', role: 'agent' as const };
const agentOf = (tenantId: string): Identity => ({ tenantId, ...agent });

const setup = async (table?: TableContext) => {
  const context = table ?? (await dynamo.table());
  const chats = new DynamoChatStore(context);
  const create = async (tenantId: string, metadata: Record<string, string> = {}, at?: Date) => {
    const chat = chatRecord(at ?? new Date(), { tenantId, metadata, createdBy: 'visitor-1' });
    await chats.create(chat, [{ userId: 'visitor-1', role: 'visitor', joinedAt: chat.createdAt }], agent);
    return chat;
  };
  return { table: context, chats, changes: new DynamoChatChangeStore(context), create };
};

describe('the chat change log', () => {
  it('holds creations and list changes of one tenant in order, as the envelopes watchers get, and nothing else', async () => {
    // Prepare
    const { chats, changes, create } = await setup();
    const chat = await create('acme', { project_id: '1' });
    const elsewhere = await create('globex', { project_id: '1' });

    // Act
    const moved = await chats.change(chat.chatId, agent, () => ({
      set: { metadata: { project_id: '2' } },
      event: { type: 'chat.updated' },
      audit: { action: 'chat.update' },
    }));
    const assigned = await chats.change(chat.chatId, agent, (current) => ({
      set: { assignee: 'agent-7', assignedAt: current.updatedAt },
      event: { type: 'chat.assigned' },
      audit: { action: 'chat.assign' },
    }));
    await chats.change(chat.chatId, agent, () => ({
      receipt: { userId: 'visitor-1', seq: 0 },
      event: { type: 'receipt' },
    }));
    const closed = await chats.change(chat.chatId, agent, () => ({
      set: { status: 'closed' },
      event: { type: 'chat.closed' },
      audit: { action: 'chat.close' },
    }));
    const acme = await changes.changesAfter('acme', '0', 100);
    const globex = await changes.changesAfter('globex', '0', 100);

    // Assess
    const events = [moved, assigned, closed].map((result) => result?.event);
    expect(acme.items.map((change) => change.envelope)).toEqual([
      chatCreatedEnvelope(chat),
      ...events.map((event) => event && chatEventEnvelope(event)),
    ]);
    expect(acme.items.map((change) => change.before?.metadata)).toEqual([
      undefined,
      { project_id: '1' },
      { project_id: '2' },
      { project_id: '2' },
    ]);
    expect(acme.items[3]?.after).toMatchObject({ status: 'closed', assignee: 'agent-7' });
    expect(acme.hasMore).toBe(false);
    expect(globex.items.map((change) => change.envelope.chatId)).toEqual([elsewhere.chatId]);
  });

  it('pages by position: at most `limit` entries, hasMore, and the rest after the last position', async () => {
    // Prepare
    const { changes, create } = await setup();
    const base = Date.now() - 60_000;
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await create('acme', {}, new Date(base + i)));

    // Act
    const first = await changes.changesAfter('acme', '0', 2);
    const second = await changes.changesAfter('acme', first.items.at(-1)?.position ?? '0', 2);
    const third = await changes.changesAfter('acme', second.items.at(-1)?.position ?? '0', 2);

    // Assess
    expect([first.hasMore, second.hasMore, third.hasMore]).toEqual([true, true, false]);
    expect([...first.items, ...second.items, ...third.items].map((change) => change.envelope.chatId)).toEqual(
      created.map((chat) => chat.chatId),
    );
  });
});

describe('ChatListFeed over the log', () => {
  it('gives a poller the chats entering its filter, and the one leaving it flagged leftFilter', async () => {
    // Prepare
    const { chats, changes, create } = await setup();
    const feed = new ChatListFeed(changes, systemClock);
    const filter = { metadata__project_id: '1', status: 'open' };
    const start = await feed.poll(agentOf('acme'), { filter, waitSeconds: 0 }, 100);
    const staying = await create('acme', { project_id: '1' });
    const leaving = await create('acme', { project_id: '1' });
    await create('acme', { project_id: '2' });

    // Act
    await chats.change(leaving.chatId, agent, () => ({
      set: { status: 'closed' },
      event: { type: 'chat.closed' },
      audit: { action: 'chat.close' },
    }));
    const poll = await feed.poll(agentOf('acme'), { filter, since: start.nextSince, waitSeconds: 0 }, 100);
    const again = await feed.poll(agentOf('acme'), { filter, since: poll.nextSince, waitSeconds: 0 }, 100);

    // Assess
    expect(poll.items.map((e) => [e.type, e.chatId, e.leftFilter ?? false])).toEqual([
      ['chat.created', staying.chatId, false],
      ['chat.created', leaving.chatId, false],
      ['chat.closed', leaving.chatId, true],
    ]);
    expect(again.items).toEqual([]);
  });
});

describe('what a poll costs', () => {
  it(
    'reads only the changes after its cursor: the same units with 20 or 220 older entries, at most 0.5 RCU when idle',
    { timeout: 120_000 },
    async () => {
      // Prepare: two tables, one with 200 older changes; then 20 recent ones in each
      const old = Date.now() - 3_600_000;
      const small = await setup();
      const big = await setup();
      for (let i = 0; i < 200; i += 25)
        await Promise.all(
          Array.from({ length: 25 }, (_, j) =>
            big.create('acme', { note: 'x'.repeat(200) }, new Date(old + i + j)),
          ),
        );
      const cursorAt = new Date(Date.now() - 30_000).toISOString();
      const recent = Date.now() - 20_000;
      for (const side of [small, big])
        for (let i = 0; i < 20; i++)
          await side.create('acme', { note: 'x'.repeat(200) }, new Date(recent + i));
      const costOf = async (side: typeof small, position: string) => {
        const { context, measure } = measuredTable(side.table, dynamo.endpoint);
        return measure(() => new DynamoChatChangeStore(context).changesAfter('acme', position, 300));
      };

      // Act
      const inSmall = await costOf(small, cursorAt);
      const inBig = await costOf(big, cursorAt);
      const idle = await costOf(big, new Date().toISOString());

      // Assess
      expect(inSmall.result.items).toHaveLength(20);
      expect(inBig.result.items).toHaveLength(20);
      expect(inBig.units).toBe(inSmall.units);
      expect(inBig.calls).toEqual(['QueryCommand']);
      expect(inBig.units).toBeLessThanOrEqual(3);
      // DynamoDB Local reports 0 for an empty Query; DynamoDB bills its minimum, 0.5 RCU.
      expect(idle.units).toBeLessThanOrEqual(0.5);
      expect(idle.result.items).toEqual([]);
    },
  );
});

describe('before the index exists (an upgrade still creating it)', () => {
  it('answers busy (503) naming the index, instead of an internal error', async () => {
    // Prepare: a table of an older version, without byTenantChanges
    const tableName = `bare-${Date.now()}`;
    await dynamo.client.send(new CreateTableCommand(bareTableInput(tableName)));
    const changes = new DynamoChatChangeStore(createTableContext(tableName, dynamo.endpoint));

    // Act
    const read = changes.changesAfter('acme', '0', 10);

    // Assess
    await expect(read).rejects.toBeInstanceOf(BusyError);
    await expect(read).rejects.toMatchObject({
      status: 503,
      message: expect.stringContaining('byTenantChanges'),
    });
  });

  it("recognises both of DynamoDB's answers for an index that is not ready, and nothing else", () => {
    // Prepare
    const error = (name: string, message: string) => Object.assign(new Error(message), { name });

    // Act + Assess
    expect(
      indexNotReady(
        error('ValidationException', 'Cannot read from backfilling global secondary index: byMeta4'),
      ),
    ).toBe(true);
    expect(
      indexNotReady(
        error('ValidationException', 'The table does not have the specified index: byTenantChanges'),
      ),
    ).toBe(true);
    expect(indexNotReady(error('ValidationException', 'The provided starting key is invalid'))).toBe(false);
    expect(indexNotReady(error('ResourceNotFoundException', 'Requested resource not found'))).toBe(false);
    expect(indexNotReady(undefined)).toBe(false);
  });
});
