/** AWS error paths of the message store, with the DynamoDB client mocked. */
import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { DynamoMessageStore } from '../../shared/adapters/dynamo/message-store.ts';
import type { MessageDraft } from '../../shared/domain/ports.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const table = createTableContext('chat-test');
const chatId = 'ch_aaaaaaaaaaaaaaaaaaaa';
const draft: MessageDraft = {
  chatId,
  tenantId: 'acme',
  clientMessageId: 'c1',
  senderId: 'alice',
  senderRole: 'user',
  type: 'text',
  text: 'hi',
};

const cancelled = (reasons: { Code: string; Item?: Record<string, unknown> }[]) =>
  new TransactionCanceledException({
    message: 'cancelled',
    $metadata: {},
    CancellationReasons: reasons.map((reason) => ({
      Code: reason.Code,
      ...(reason.Item ? { Item: marshall(reason.Item) } : {}),
    })),
  });

beforeEach(() => ddb.reset());

describe('DynamoMessageStore.append error paths', () => {
  it('retries with the seq from the failed condition, without another read', async () => {
    // Prepare: the chat is at 0 when read, but another sender got there first (now 5)
    ddb.on(GetCommand).resolves({ Item: { lastSeq: 0 } });
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(
        cancelled([
          { Code: 'ConditionalCheckFailed', Item: { lastSeq: 5, status: 'open' } },
          { Code: 'None' },
          { Code: 'None' },
        ]),
      )
      .resolves({});

    // Act
    const { message, created } = await new DynamoMessageStore(table).append(draft);

    // Assess
    expect(created).toBe(true);
    expect(message.seq).toBe(6);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(1);
    const second = ddb.commandCalls(TransactWriteCommand)[1]?.args[0].input.TransactItems?.[0]?.Update;
    expect(second?.ExpressionAttributeValues).toMatchObject({ ':expected': 5, ':seq': 6 });
  });

  it('never stamps a message earlier than the chat’s last activity, so createdAt rises with seq', async () => {
    // Prepare: this container's clock is behind the time of the message that won seq 5
    const clock = { now: () => new Date('2026-11-21T10:00:00.000Z') };
    ddb.on(GetCommand).resolves({ Item: { lastSeq: 0, lastActivityAt: '2026-11-21T09:00:00.000Z' } });
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(
        cancelled([
          {
            Code: 'ConditionalCheckFailed',
            Item: { lastSeq: 5, status: 'open', lastActivityAt: '2026-11-21T10:00:00.250Z' },
          },
          { Code: 'None' },
          { Code: 'None' },
        ]),
      )
      .resolves({});

    // Act
    const { message } = await new DynamoMessageStore(table, clock).append(draft);

    // Assess
    expect(message).toMatchObject({ seq: 6, createdAt: '2026-11-21T10:00:00.250Z' });
    const update = ddb.commandCalls(TransactWriteCommand)[1]?.args[0].input.TransactItems?.[0]?.Update;
    expect(update?.ConditionExpression).toContain('lastActivityAt <= :at');
  });

  it('returns the original message when the idempotency record already exists', async () => {
    ddb.on(GetCommand, { Key: { pk: `CHAT#${chatId}`, sk: 'CHAT' } }).resolves({ Item: { lastSeq: 3 } });
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled([
          { Code: 'None' },
          { Code: 'None' },
          { Code: 'ConditionalCheckFailed', Item: { seq: 2, messageId: 'm_x_2' } },
        ]),
      );
    ddb
      .on(GetCommand, { Key: { pk: `CHAT#${chatId}`, sk: 'MSG#000000000002' } })
      .resolves({ Item: { ...draft, seq: 2, messageId: 'm_x_2', text: 'the original' } });

    const { message, created } = await new DynamoMessageStore(table).append(draft);

    expect(created).toBe(false);
    expect(message).toMatchObject({ seq: 2, messageId: 'm_x_2', text: 'the original' });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(1);
  });

  it('refuses a closed chat with 409', async () => {
    ddb.on(GetCommand).resolves({ Item: { lastSeq: 1 } });
    ddb
      .on(TransactWriteCommand)
      .rejects(
        cancelled([
          { Code: 'ConditionalCheckFailed', Item: { lastSeq: 1, status: 'closed' } },
          { Code: 'None' },
          { Code: 'None' },
        ]),
      );

    await expect(new DynamoMessageStore(table).append(draft)).rejects.toMatchObject({
      status: 409,
      code: 'conflict',
    });
  });

  it('refuses a missing chat with 404', async () => {
    ddb.on(GetCommand).resolves({});

    await expect(new DynamoMessageStore(table).append(draft)).rejects.toMatchObject({ status: 404 });
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });

  it('backs off and re-reads on a transaction conflict, then succeeds', async () => {
    ddb
      .on(GetCommand)
      .resolvesOnce({ Item: { lastSeq: 0 } })
      .resolves({ Item: { lastSeq: 1 } });
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled([{ Code: 'TransactionConflict' }, { Code: 'None' }, { Code: 'None' }]))
      .resolves({});

    const { message } = await new DynamoMessageStore(table).append(draft);

    expect(message.seq).toBe(2);
    expect(ddb.commandCalls(GetCommand)).toHaveLength(2);
  });

  it('answers 503 busy after bounded retries under endless contention', async () => {
    ddb.on(GetCommand).resolves({ Item: { lastSeq: 0 } });
    let seq = 0;
    ddb.on(TransactWriteCommand).callsFake(async () => {
      seq += 1;
      throw cancelled([
        { Code: 'ConditionalCheckFailed', Item: { lastSeq: seq, status: 'open' } },
        { Code: 'None' },
        { Code: 'None' },
      ]);
    });

    await expect(new DynamoMessageStore(table).append(draft)).rejects.toMatchObject({
      status: 503,
      code: 'busy',
    });
    expect(ddb.commandCalls(TransactWriteCommand).length).toBeLessThanOrEqual(60);
  });

  it('lets throttling that outlasts the SDK retries surface as an error', async () => {
    ddb.on(GetCommand).resolves({ Item: { lastSeq: 0 } });
    ddb.on(TransactWriteCommand).rejects(
      new ProvisionedThroughputExceededException({
        message: 'throttled',
        $metadata: { httpStatusCode: 400 },
      }),
    );

    await expect(new DynamoMessageStore(table).append(draft)).rejects.toBeInstanceOf(
      ProvisionedThroughputExceededException,
    );
  });
});
