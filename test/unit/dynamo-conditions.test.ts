/**
 * The condition-failed checks of the DynamoDB adapters (shared/adapters/dynamo/client.ts): one for
 * single-item writes, one for transactions, and a store that relies on each.
 */
import {
  type AttributeValue,
  ConditionalCheckFailedException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  createTableContext,
  failedConditions,
  isConditionFailed,
} from '../../shared/adapters/dynamo/client.ts';
import { DynamoRateLimiter } from '../../shared/adapters/dynamo/rate-limiter.ts';

const conditionFailed = (item?: Record<string, AttributeValue>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: item,
  });
const cancelled = (codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });

describe('isConditionFailed', () => {
  it('recognises a failed condition, with the refused item when it was asked for', () => {
    // Prepare
    const error: unknown = conditionFailed({ pk: { S: 'CHAT#1' } });

    // Act
    const failed = isConditionFailed(error);

    // Assess
    expect(failed).toBe(true);
    expect(failed && error.Item).toEqual({ pk: { S: 'CHAT#1' } });
  });

  it('recognises one by its name too (an error from another copy of the SDK)', () => {
    expect(
      isConditionFailed(Object.assign(new Error('x'), { name: 'ConditionalCheckFailedException' })),
    ).toBe(true);
  });

  it('rejects every other error, a cancelled transaction included', () => {
    expect(isConditionFailed(new Error('boom'))).toBe(false);
    expect(isConditionFailed(cancelled(['ConditionalCheckFailed']))).toBe(false);
    expect(isConditionFailed(undefined)).toBe(false);
    expect(isConditionFailed('ConditionalCheckFailedException')).toBe(false);
  });
});

describe('failedConditions', () => {
  it('tells, item by item, which conditions of a cancelled transaction failed', () => {
    // Act
    const failed = failedConditions(cancelled(['None', 'ConditionalCheckFailed', 'TransactionConflict']));

    // Assess
    expect(failed).toEqual([false, true, false]);
  });

  it('is empty for a cancellation without reasons', () => {
    expect(
      failedConditions(new TransactionCanceledException({ message: 'cancelled', $metadata: {} })),
    ).toEqual([]);
  });

  it('is undefined for any other error', () => {
    expect(failedConditions(conditionFailed())).toBeUndefined();
    expect(failedConditions(new Error('boom'))).toBeUndefined();
    expect(failedConditions(undefined)).toBeUndefined();
  });
});

describe('a store relying on the check (DynamoRateLimiter)', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const limiter = new DynamoRateLimiter(createTableContext('chat-test'));
  beforeEach(() => ddb.reset());

  it('refuses a hit over the limit (the condition failed)', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(conditionFailed());

    // Act
    const allowed = await limiter.hit('visitor#1.2.3.4', 30, 60);

    // Assess
    expect(allowed).toBe(false);
  });

  it('propagates any other DynamoDB error', async () => {
    // Prepare
    ddb.on(UpdateCommand).rejects(new Error('throttled'));

    // Act
    const hit = limiter.hit('visitor#1.2.3.4', 30, 60);

    // Assess
    await expect(hit).rejects.toThrow('throttled');
  });
});
