/**
 * GET /v1/unread's store read against DynamoDB Local: it reads each chat's `lastSeq` and the caller's
 * read state, never the whole chat items (subject, metadata, feedback).
 */
import { describe, expect, it } from 'vitest';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { newId } from '../../shared/domain/ids.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();
const at = '2026-12-01T10:00:00.000Z';

/** A store whose reads are recorded: the items each BatchGetItem returned and their JSON size. */
const recordingStore = (tableName: string, endpoint: string) => {
  const context = createTableContext(tableName, endpoint);
  const batchItems: Record<string, unknown>[] = [];
  context.doc.middlewareStack.add(
    (next, info) => async (args) => {
      const result = await next(args);
      if (/BatchGet/.test(info.commandName ?? '')) {
        const output = result.output as { Responses?: Record<string, Record<string, unknown>[]> };
        batchItems.push(...(output.Responses?.[tableName] ?? []));
      }
      return result;
    },
    { step: 'initialize', name: 'recordBatchGets' },
  );
  return { store: new DynamoChatStore(context), batchItems };
};

describe('unread counts read only what they need', () => {
  it('reads lastSeq of each chat, not its subject and metadata', async () => {
    // Prepare: three chats of alice, each with 6 KB of metadata and a long subject, `index + 1` messages each, none read
    const table = await dynamo.table();
    const writer = new DynamoChatStore(table);
    const chatIds: string[] = [];
    for (let index = 0; index < 3; index++) {
      const chatId = newId('ch');
      chatIds.push(chatId);
      await writer.create(
        {
          chatId,
          tenantId: 'acme',
          subject: 's'.repeat(200),
          metadata: { notes: 'x'.repeat(6 * 1024) },
          status: 'open',
          createdBy: 'alice',
          createdAt: at,
          updatedAt: at,
          lastActivityAt: at,
          lastSeq: index + 1,
        },
        [
          { userId: 'alice', role: 'user', joinedAt: at },
          { userId: 'bob', role: 'user', joinedAt: at },
        ],
        { userId: 'alice', role: 'user' },
      );
    }
    const { store, batchItems } = recordingStore(table.tableName, dynamo.endpoint);

    // Act
    const rows = await store.unreadOf('acme', 'alice', 1000);

    // Assess: the counts, and chat items read without their big attributes
    expect(rows.map((row) => row.chatId).sort()).toEqual([...chatIds].sort());
    expect(rows.map((row) => [row.chatId, row.lastSeq, row.lastReadSeq]).sort()).toEqual(
      chatIds.map((chatId, index) => [chatId, index + 1, 0]).sort(),
    );
    expect(batchItems).toHaveLength(3);
    for (const item of batchItems) expect(Object.keys(item).sort()).toEqual(['chatId', 'lastSeq']);
    expect(JSON.stringify(batchItems).length).toBeLessThan(500);
  });
});
