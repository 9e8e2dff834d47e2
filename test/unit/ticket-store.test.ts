import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { DynamoTicketStore } from '../../shared/adapters/dynamo/ticket-store.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const store = new DynamoTicketStore(createTableContext('chat-test'));

beforeEach(() => ddb.reset());

describe('DynamoTicketStore.consume', () => {
  it('deletes the ticket conditionally and returns its identity', async () => {
    ddb.on(DeleteCommand).resolves({ Attributes: { tenantId: 'acme', userId: 'alice', role: 'user' } });

    const identity = await store.consume('hash', 1000);

    expect(identity).toEqual({ tenantId: 'acme', userId: 'alice', role: 'user' });
    expect(ddb).toHaveReceivedNthCommandWith(
      DeleteCommand,
      1,
      expect.objectContaining({
        ConditionExpression: 'attribute_exists(pk) AND expiresAt > :now',
        ExpressionAttributeValues: { ':now': 1000 },
      }),
    );
  });

  it('returns nothing for a used, unknown or expired ticket (conditional check failed)', async () => {
    ddb.on(DeleteCommand).rejects(new ConditionalCheckFailedException({ message: 'failed', $metadata: {} }));

    await expect(store.consume('hash', 1000)).resolves.toBeUndefined();
  });

  it('propagates other DynamoDB errors', async () => {
    ddb.on(DeleteCommand).rejects(new Error('boom'));

    await expect(store.consume('hash', 1000)).rejects.toThrow('boom');
  });
});
