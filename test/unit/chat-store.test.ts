/**
 * AWS error paths of chat creation with `unique: true`, with the DynamoDB client mocked: on DynamoDB
 * (not on DynamoDB Local, which runs transactions one at a time) two creates of one participant set may
 * collide with TransactionConflict instead of a failed condition.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoChatStore } from '../../shared/adapters/dynamo/chat-store.ts';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { BusyError } from '../../shared/domain/errors.ts';
import type { ChatRecord } from '../../shared/domain/schemas.ts';
import { chatRecord } from '../support/fixtures.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoChatStore(createTableContext('chat-test'));

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

const at = '2026-11-21T10:00:00.000Z';
const chat = (chatId: string): ChatRecord => chatRecord(at, { chatId });
const members = [
  { userId: 'alice', role: 'user' as const, joinedAt: at },
  { userId: 'bob', role: 'user' as const, joinedAt: at },
];
const create = (chatId: string) =>
  store.create(chat(chatId), members, { userId: 'alice', role: 'user' }, 'alice|bob');
/** chat, 2 participants, audit, creation record, then the unique item (last). */
const ITEMS = 6;
const reasons = (last: string, others = 'None') => [...Array(ITEMS - 1).fill(others), last];

beforeEach(() => ddb.reset());

describe('unique chat creation on DynamoDB', () => {
  it('retries a create cancelled by a conflicting transaction, and creates the chat', async () => {
    // Prepare
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled(...reasons('TransactionConflict')))
      .resolves({});

    // Act
    const result = await create('ch_aaaaaaaaaaaaaaaaaaaa');

    // Assess
    expect(result).toMatchObject({ created: true, chat: { chatId: 'ch_aaaaaaaaaaaaaaaaaaaa' } });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
    expect(ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems).toHaveLength(ITEMS);
  });

  it('returns the chat that won the race once the retry finds the participant set taken', async () => {
    // Prepare: conflict, then the unique item's condition fails; it names the winner
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled(...reasons('TransactionConflict')))
      .rejectsOnce(cancelled(...reasons('ConditionalCheckFailed')));
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { chatId: 'ch_wwwwwwwwwwwwwwwwwwww' } })
      .resolvesOnce({
        Item: { pk: 'CHAT#ch_wwwwwwwwwwwwwwwwwwww', sk: 'CHAT', ...chat('ch_wwwwwwwwwwwwwwwwwwww') },
      });

    // Act
    const result = await create('ch_llllllllllllllllllll');

    // Assess
    expect(result).toMatchObject({ created: false, chat: { chatId: 'ch_wwwwwwwwwwwwwwwwwwww' } });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 2);
  });

  it('reports busy (503) when conflicts persist, instead of retrying forever or answering 500', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(cancelled(...reasons('TransactionConflict')));

    // Act
    const attempt = create('ch_bbbbbbbbbbbbbbbbbbbb');

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(BusyError);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 6);
  });
});

describe('chat changes', () => {
  it('stamp the event, the chat and the audit record with the clock the services use', async () => {
    // Prepare
    const now = new Date('2030-01-02T03:04:05.006Z');
    const clocked = new DynamoChatStore(createTableContext('chat-test'), undefined, { now: () => now });
    const current = chatRecord(at, { chatId: 'ch_cccccccccccccccccccc' });
    ddb.on(GetCommand).resolves({ Item: { pk: 'CHAT#ch_cccccccccccccccccccc', sk: 'CHAT', ...current } });
    ddb.on(TransactWriteCommand).resolves({});

    // Act
    const result = await clocked.change(current.chatId, { userId: 'agent-1', role: 'agent' }, () => ({
      set: { subject: 'New' },
      event: { type: 'chat.updated' },
      audit: { action: 'chat.update' },
    }));

    // Assess
    const items = ddb.commandCalls(TransactWriteCommand)[0]?.args[0].input.TransactItems ?? [];
    const puts = items.flatMap((item) => (item.Put ? [item.Put.Item as Record<string, unknown>] : []));
    expect(result?.event.at).toBe(now.toISOString());
    expect(result?.chat.updatedAt).toBe(now.toISOString());
    expect(puts.map((item) => [item.entity, item.at])).toEqual([
      ['chatEvent', now.toISOString()],
      ['audit', now.toISOString()],
    ]);
  });
});
