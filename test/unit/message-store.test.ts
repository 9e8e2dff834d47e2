/** The message store's append steps and AWS error paths, with the DynamoDB client mocked. */
import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
  TransactionConflictException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { keys } from '../../shared/adapters/dynamo/keys.ts';
import { DynamoMessageStore, VOID_AFTER_MS } from '../../shared/adapters/dynamo/message-store.ts';
import type { Clock, MessageDraft } from '../../shared/domain/ports.ts';
import type { Message } from '../../shared/domain/schemas.ts';
import { isVoid } from '../../shared/domain/voids.ts';

const ddb = mockClient(DynamoDBDocumentClient);
const table = createTableContext('chat-test');
const chatId = 'ch_aaaaaaaaaaaaaaaaaaaa';
const NOW = new Date('2026-12-01T10:00:00.000Z');
const clock: Clock = { now: () => NOW };
const draft: MessageDraft = {
  chatId,
  tenantId: 'acme',
  clientMessageId: 'c1',
  senderId: 'alice',
  senderRole: 'user',
  type: 'text',
  text: 'hi',
};
const store = () => new DynamoMessageStore(table, clock);

const conditionFailed = (item?: Record<string, unknown>) =>
  new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    ...(item ? { Item: marshall(item) } : {}),
  });

const stored = (seq: number, overrides: Partial<Message> = {}): Record<string, unknown> => ({
  ...keys.message(chatId, seq),
  entity: 'message',
  ...draft,
  seq,
  messageId: `m_000000000000_${seq}`,
  createdAt: NOW.toISOString(),
  ...overrides,
});

const isMessagePut = (input: { Item?: Record<string, unknown> }) =>
  String(input.Item?.sk).startsWith(keys.MSG_PREFIX);
const isClaimPut = (input: { Item?: Record<string, unknown> }) => String(input.Item?.sk).startsWith('CMID#');
const puts = () => ddb.commandCalls(PutCommand).map((call) => call.args[0].input);

beforeEach(() => {
  ddb.reset();
  // By default: no claim yet, and the chat's counter moves from 4 to 5.
  ddb.on(GetCommand).resolves({});
  ddb.on(UpdateCommand).resolves({ Attributes: { lastSeq: 5 } });
  ddb.on(PutCommand).resolves({});
});

describe('DynamoMessageStore.append', () => {
  it('reserves the seq with an atomic increment and writes the claim and the message, with no transaction', async () => {
    // Act
    const { message, created } = await store().append(draft);

    // Assess
    expect(created).toBe(true);
    expect(message).toMatchObject({ ...draft, seq: 5, createdAt: NOW.toISOString() });
    const [reserve] = ddb.commandCalls(UpdateCommand).map((call) => call.args[0].input);
    expect(reserve).toMatchObject({
      Key: keys.chat(chatId),
      UpdateExpression: 'ADD lastSeq :one SET lastActivityAt = :at',
      ConditionExpression: '#status = :open',
    });
    expect(puts().filter(isClaimPut)).toEqual([
      expect.objectContaining({
        Item: expect.objectContaining({ ...keys.idempotency(chatId, 'alice', 'c1'), seq: 5 }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ]);
    expect(puts().filter(isMessagePut)).toEqual([
      expect.objectContaining({
        Item: expect.objectContaining({ ...keys.message(chatId, 5), text: 'hi' }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ]);
    expect(ddb).toHaveReceivedCommandTimes(TransactWriteCommand, 0);
    // The claim is looked for first, eventually consistently (half the read units).
    expect(ddb.commandCalls(GetCommand).map((call) => call.args[0].input)).toEqual([
      expect.objectContaining({ Key: keys.idempotency(chatId, 'alice', 'c1'), ConsistentRead: false }),
    ]);
  });

  it('returns the original message for a retried clientMessageId and writes nothing', async () => {
    // Prepare
    ddb.on(GetCommand, { Key: keys.idempotency(chatId, 'alice', 'c1') }).resolves({ Item: { seq: 3 } });
    ddb.on(GetCommand, { Key: keys.message(chatId, 3) }).resolves({ Item: stored(3) });

    // Act
    const { message, created } = await store().append({ ...draft, text: 'changed' });

    // Assess
    expect(created).toBe(false);
    expect(message).toMatchObject({ seq: 3, text: 'hi' });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 0);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it('voids its own seq when a concurrent request with the same clientMessageId claimed first, or the claim read missed it', async () => {
    // Prepare: the claim (seq 3) is taken between the read and the write, or was not yet in the replica read
    ddb.on(PutCommand).callsFake((input: { Item?: Record<string, unknown> }) => {
      if (isClaimPut(input)) throw conditionFailed({ seq: 3, createdAt: NOW.toISOString() });
      return {};
    });
    ddb.on(GetCommand, { Key: keys.message(chatId, 3) }).resolves({ Item: stored(3) });

    // Act
    const { message, created } = await store().append(draft);

    // Assess: seq 5 holds a void, the answer is the winner's message
    expect(created).toBe(false);
    expect(message.seq).toBe(3);
    const voids = puts().filter(isMessagePut);
    expect(voids).toHaveLength(1);
    expect(voids[0]?.Item).toMatchObject({ ...keys.message(chatId, 5), system: { kind: 'void' } });
  });

  it('voids the seq and reports the error when the message cannot be written', async () => {
    // Prepare: the message write is throttled beyond the SDK's retries
    ddb.on(PutCommand).callsFake((input: { Item?: Record<string, unknown> }) => {
      if (input.Item?.text === 'hi')
        throw new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
      return {};
    });

    // Act
    const append = store().append(draft);

    // Assess
    await expect(append).rejects.toBeInstanceOf(ProvisionedThroughputExceededException);
    const writes = puts().filter(isMessagePut);
    expect(writes.at(-1)?.Item).toMatchObject({ ...keys.message(chatId, 5), system: { kind: 'void' } });
  });

  it('places the message itself when a retry finds a claim whose message was never written', async () => {
    // Prepare: an earlier attempt claimed seq 2 and died
    ddb
      .on(GetCommand, { Key: keys.idempotency(chatId, 'alice', 'c1') })
      .resolves({ Item: { seq: 2, createdAt: '2026-12-01T09:59:59.000Z' } });

    // Act
    const { message, created } = await store().append(draft);

    // Assess
    expect(created).toBe(false);
    expect(message).toMatchObject({ seq: 2, createdAt: '2026-12-01T09:59:59.000Z', text: 'hi' });
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 0);
    expect(puts().filter(isMessagePut)).toHaveLength(1);
  });

  it('moves a message whose seq was voided meanwhile to a new seq and re-points its claim', async () => {
    // Prepare: the retry's claim names seq 2, which a reader voided; the counter is at 6 now
    ddb
      .on(GetCommand, { Key: keys.idempotency(chatId, 'alice', 'c1') })
      .resolves({ Item: { seq: 2, createdAt: NOW.toISOString() } });
    ddb
      .on(GetCommand, { Key: keys.message(chatId, 2) })
      .resolves({ Item: stored(2, { system: { kind: 'void' }, type: 'system', text: '' }) });
    ddb.on(UpdateCommand, { Key: keys.chat(chatId) }).resolves({ Attributes: { lastSeq: 7 } });

    // Act
    const { message } = await store().append(draft);

    // Assess
    expect(message.seq).toBe(7);
    const repoint = ddb
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .find((input) => String(input.Key?.sk).startsWith('CMID#'));
    expect(repoint).toMatchObject({
      ConditionExpression: 'seq = :from',
      ExpressionAttributeValues: expect.objectContaining({ ':seq': 7, ':from': 2 }),
    });
    expect(
      puts()
        .filter(isMessagePut)
        .map((input) => input.Item?.sk),
    ).toEqual([keys.message(chatId, 7).sk]);
  });

  it('refuses a closed chat with 409 and a missing chat with 404', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(conditionFailed({ status: 'closed' }))
      .rejectsOnce(conditionFailed());

    await expect(store().append(draft)).rejects.toMatchObject({ status: 409 });
    await expect(store().append(draft)).rejects.toMatchObject({ status: 404 });
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it('retries the reservation while another transaction holds the chat item', async () => {
    ddb
      .on(UpdateCommand)
      .rejectsOnce(new TransactionConflictException({ message: 'conflict', $metadata: {} }))
      .resolves({ Attributes: { lastSeq: 9 } });

    const { message } = await store().append(draft);

    expect(message.seq).toBe(9);
    expect(ddb).toHaveReceivedCommandTimes(UpdateCommand, 2);
  });
});

describe('DynamoMessageStore.after', () => {
  it('stops a page below a hole whose writer may still be at work', async () => {
    // Prepare: 3 is reserved but not written yet; 4 was written just now
    ddb.on(QueryCommand).resolves({ Items: [stored(1), stored(2), stored(4)] });

    // Act
    const page = await store().after(chatId, 0, 10);

    // Assess
    expect(page.items.map((m) => m.seq)).toEqual([1, 2]);
    expect(ddb).toHaveReceivedCommandTimes(PutCommand, 0);
  });

  it('voids a hole older than VOID_AFTER_MS and returns it in its place', async () => {
    // Prepare: message 4 is older than the limit, so 3's writer is long gone
    const old = new Date(NOW.getTime() - VOID_AFTER_MS - 1).toISOString();
    ddb.on(QueryCommand).resolves({ Items: [stored(2), stored(4, { createdAt: old })] });

    // Act
    const page = await store().after(chatId, 1, 10);

    // Assess
    expect(page.items.map((m) => m.seq)).toEqual([2, 3, 4]);
    expect(isVoid(page.items[1]!)).toBe(true);
    expect(puts()).toEqual([
      expect.objectContaining({
        Item: expect.objectContaining({ ...keys.message(chatId, 3), system: { kind: 'void' } }),
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    ]);
  });
});
