/** AWS error paths of the block store, with the DynamoDB client mocked. */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoBlockStore } from '../../shared/adapters/dynamo/block-store.ts';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { BusyError } from '../../shared/domain/errors.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const table = createTableContext('chat-test');

const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

beforeEach(() => ddb.reset());

describe('DynamoBlockStore error paths', () => {
  it('retries a block that collided with a concurrent block of the same user', async () => {
    // Prepare
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict'))
      .rejectsOnce(cancelled('None', 'TransactionConflict'))
      .resolves({});

    // Act
    const result = await new DynamoBlockStore(table).put('acme', 'alice', 'bob', '2026-11-21T10:00:00.000Z');

    // Assess
    expect(result.created).toBe(true);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 3);
  });

  it('reports busy (503) when conflicts persist, instead of retrying forever', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict'));

    // Act
    const attempt = new DynamoBlockStore(table).remove('acme', 'alice', 'bob');

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(BusyError);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 6);
  });

  it('treats an existing block as a repeat: first blockedAt kept, summary re-asserted, no retry', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    ddb.on(GetCommand).resolves({ Item: { blockedAt: '2026-11-20T08:00:00.000Z' } });
    ddb.on(UpdateCommand).resolves({});

    // Act
    const result = await new DynamoBlockStore(table).put('acme', 'alice', 'bob', '2026-11-21T10:00:00.000Z');

    // Assess
    expect(result).toEqual({
      block: { userId: 'bob', blockedAt: '2026-11-20T08:00:00.000Z' },
      created: false,
    });
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
    expect(ddb).toHaveReceivedNthCommandWith(
      UpdateCommand,
      1,
      expect.objectContaining({
        UpdateExpression: expect.stringContaining('ADD blockers :blocker'),
        ExpressionAttributeValues: expect.objectContaining({ ':blocker': new Set(['alice']) }),
      }),
    );
  });

  it('passes other failures through unchanged', async () => {
    // Prepare
    ddb.on(TransactWriteCommand).rejects(new Error('network down'));

    // Act
    const attempt = new DynamoBlockStore(table).put('acme', 'alice', 'bob', '2026-11-21T10:00:00.000Z');

    // Assess
    await expect(attempt).rejects.toThrow('network down');
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 1);
  });
});
