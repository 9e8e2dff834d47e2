/**
 * Subscribe and watch write two items with one BatchWriteItem each: items DynamoDB returns unprocessed
 * (throttling) are written again with backoff, so an ack means the subscription exists — or the action
 * fails with 503 `busy`. The DynamoDB client is mocked.
 */
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { DynamoConnectionStore } from '../../shared/adapters/dynamo/connection-store.ts';
import { BusyError } from '../../shared/domain/errors.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const table = createTableContext('chat-test');
const chatId = 'ch_aaaaaaaaaaaaaaaaaaaa';

/** The requests of the nth BatchWriteItem call (1-based). */
const requestsOf = (call: number) =>
  (ddb.commandCalls(BatchWriteCommand)[call - 1]?.args[0].input.RequestItems?.['chat-test'] ?? []).map(
    (request) => request.PutRequest?.Item?.sk,
  );

/** What DynamoDB answers when it left the item with sort key `sk` unprocessed. */
const leftUnprocessed = (sk: string) => ({
  UnprocessedItems: { 'chat-test': [{ PutRequest: { Item: { pk: `CHAT#${chatId}`, sk } } }] },
});

beforeEach(() => ddb.reset());

describe('DynamoConnectionStore writes', () => {
  it('writes again what a subscribe left unprocessed, and resolves once everything is written', async () => {
    // Prepare: the first call leaves the chat-side item unprocessed, the second leaves it again
    ddb
      .on(BatchWriteCommand)
      .resolvesOnce(leftUnprocessed('SUB#conn-1'))
      .resolvesOnce(leftUnprocessed('SUB#conn-1'))
      .resolves({});

    // Act
    await new DynamoConnectionStore(table).subscribe('conn-1', [chatId], 1_900_000_000, 'alice', 'user');

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(BatchWriteCommand, 3);
    expect(requestsOf(1)).toEqual(['SUB#conn-1', `SUB#${chatId}`]);
    expect(requestsOf(2)).toEqual(['SUB#conn-1']);
    expect(requestsOf(3)).toEqual(['SUB#conn-1']);
  });

  it('fails with 503 busy when a subscription item stays unprocessed, so no ack is sent', async () => {
    // Prepare
    ddb.on(BatchWriteCommand).resolves(leftUnprocessed(`SUB#${chatId}`));

    // Act
    const result = new DynamoConnectionStore(table).subscribe('conn-1', [chatId], 1_900_000_000, 'alice');

    // Assess
    await expect(result).rejects.toBeInstanceOf(BusyError);
    await expect(result).rejects.toMatchObject({ status: 503, code: 'busy' });
    expect(ddb.commandCalls(BatchWriteCommand).length).toBeGreaterThan(1);
  });

  it('writes again what a watch left unprocessed', async () => {
    // Prepare
    ddb.on(BatchWriteCommand).resolvesOnce(leftUnprocessed('WATCH')).resolves({});

    // Act
    await new DynamoConnectionStore(table).watch('conn-1', 'acme', { status: 'open' }, 1_900_000_000);

    // Assess
    expect(ddb).toHaveReceivedCommandTimes(BatchWriteCommand, 2);
    expect(requestsOf(2)).toEqual(['WATCH']);
  });

  it('keeps the user and role on both subscription items', async () => {
    // Prepare
    ddb.on(BatchWriteCommand).resolves({});

    // Act
    await new DynamoConnectionStore(table).subscribe('conn-1', [chatId], 1_900_000_000, 'agent-1', 'agent');

    // Assess
    const items = ddb
      .commandCalls(BatchWriteCommand)[0]
      ?.args[0].input.RequestItems?.['chat-test']?.map((request) => request.PutRequest?.Item);
    expect(items).toEqual([
      expect.objectContaining({ userId: 'agent-1', role: 'agent', ttl: 1_900_000_000 }),
      expect.objectContaining({ userId: 'agent-1', role: 'agent', ttl: 1_900_000_000 }),
    ]);
  });
});
