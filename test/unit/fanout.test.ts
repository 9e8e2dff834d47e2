/**
 * The fan-out handler with its AWS clients mocked: 410 cleanup, batchItemFailures and per-chat order.
 */
import {
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ConnectionsEndpoint, startConnectionsEndpoint } from '../support/connections-endpoint.ts';
import { keys } from '../../shared/adapters/dynamo/keys.ts';
import { chatRecord } from '../support/fixtures.ts';
import { metrics } from '../../shared/runtime/metrics.ts';
import { useHandlerTestEnv } from '../support/handler-env.ts';

useHandlerTestEnv();

const ddb = mockClient(DynamoDBDocumentClient);
let api: ConnectionsEndpoint;
let startBudget: (remainingMs: number, clock: () => number) => () => boolean;
let handler: (
  event: DynamoDBStreamEvent,
  context: Context,
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;
const context = {
  getRemainingTimeInMillis: () => 60_000,
  functionName: 'fanout',
  awsRequestId: 'r',
} as Context;

beforeAll(async () => {
  // The handler's @connections client is made at import, for the endpoint of its environment.
  api = await startConnectionsEndpoint();
  process.env.WS_MANAGEMENT_ENDPOINT = api.endpoint;
  ({ handler, startBudget } = (await import('../../functions/stream/fanout.ts')) as unknown as {
    handler: typeof handler;
    startBudget: typeof startBudget;
  });
});
afterAll(() => api.close());
beforeEach(() => {
  ddb.reset();
  api.reset();
  ddb.on(UpdateCommand).resolves({});
  ddb.on(BatchWriteCommand).resolves({});
  ddb.on(DeleteCommand).resolves({});
});

const chatA = 'ch_aaaaaaaaaaaaaaaaaaaa';
const chatB = 'ch_bbbbbbbbbbbbbbbbbbbb';
const record = (chatId: string, seq: number): DynamoDBRecord => ({
  eventName: 'INSERT',
  dynamodb: {
    SequenceNumber: `${chatId}-${seq}`,
    NewImage: marshall({
      pk: `CHAT#${chatId}`,
      sk: `MSG#${seq}`,
      entity: 'message',
      messageId: `m_x_${seq}`,
      chatId,
      tenantId: 'acme',
      seq,
      clientMessageId: `c${seq}`,
      senderId: 'alice',
      senderRole: 'user',
      type: 'text',
      text: 'hi',
      createdAt: '2026-11-21T10:00:00.000Z',
    }) as never,
  },
});
const subscribers = (chatId: string, ids: string[]) =>
  ddb
    .on(QueryCommand, { ExpressionAttributeValues: { ':pk': `CHAT#${chatId}`, ':sub': 'SUB#' } })
    .resolves({ Items: ids.map((connectionId) => ({ connectionId })) });

describe('fan-out handler', () => {
  it('posts each message to every subscriber of its chat, in seq order', async () => {
    subscribers(chatA, ['c1=', 'c2=']);

    const result = await handler({ Records: [record(chatA, 1), record(chatA, 2)] }, context);

    expect(result.batchItemFailures).toEqual([]);
    const posts = api.calls('POST').map((call) => `${call.connectionId}:${JSON.parse(call.body).seq}`);
    expect(posts.filter((p) => p.startsWith('c1='))).toEqual(['c1=:1', 'c1=:2']);
    expect(posts).toHaveLength(4);
  });

  it('pushes the messages of one chat in seq order when the stream delivers them stored out of order', async () => {
    // Prepare: seq 3 was stored before seq 2 (concurrent sends)
    subscribers(chatA, ['c1=']);

    // Act
    const result = await handler(
      { Records: [record(chatA, 1), record(chatA, 3), record(chatA, 2)] },
      context,
    );

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    const seqs = api.calls('POST').map((call) => JSON.parse(call.body).seq);
    expect(seqs).toEqual([1, 2, 3]);
  });

  it('keeps an edit after its message when an earlier seq stored later moves up past both', async () => {
    // Prepare: seq 3 stored, then edited, and only then seq 2 (concurrent sends)
    subscribers(chatA, ['c1=']);
    const edited = { ...unmarshall(record(chatA, 3).dynamodb?.NewImage as never), text: 'edited' };
    const edit: DynamoDBRecord = {
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: `${chatA}-event-1`,
        NewImage: marshall({
          pk: `CHAT#${chatA}`,
          sk: 'EVT#1',
          entity: 'chatEvent',
          chatId: chatA,
          tenantId: 'acme',
          eventSeq: 1,
          at: '2026-11-21T10:00:01.000Z',
          actorId: 'alice',
          type: 'message.updated',
          data: edited,
        }) as never,
      },
    };

    // Act
    const result = await handler(
      { Records: [record(chatA, 1), record(chatA, 3), edit, record(chatA, 2)] },
      context,
    );

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    const posts = api.calls('POST').map((call) => {
      const envelope = JSON.parse(call.body) as { type: string; seq: number };
      return `${envelope.type} ${envelope.seq}`;
    });
    expect(posts).toEqual([
      'message.created 1',
      'message.created 2',
      'message.created 3',
      'message.updated 3',
    ]);
  });

  it('pushes the message of a hole below a batch’s message first, read from the table, and not again when its record comes', async () => {
    // Prepare: seq 1 pushed; then seq 3 comes while seq 2, stored a moment later, is in the table only
    const chatC = 'ch_cccccccccccccccccccc';
    subscribers(chatC, ['c1=']);
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':from': keys.message(chatC, 2).sk } })
      .resolves({ Items: [unmarshall(record(chatC, 2).dynamodb?.NewImage as never)] });
    await handler({ Records: [record(chatC, 1)] }, context);

    // Act
    const withHole = await handler({ Records: [record(chatC, 3)] }, context);
    const late = await handler({ Records: [record(chatC, 2)] }, context);

    // Assess
    expect([withHole.batchItemFailures, late.batchItemFailures]).toEqual([[], []]);
    expect(api.calls('POST').map((call) => JSON.parse(call.body).seq)).toEqual([1, 2, 3]);
    const reads = ddb
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.ExpressionAttributeValues?.[':from'] !== undefined);
    expect(reads).toEqual([
      expect.objectContaining({
        ConsistentRead: true,
        ExpressionAttributeValues: {
          ':pk': `CHAT#${chatC}`,
          ':from': keys.message(chatC, 2).sk,
          ':to': keys.message(chatC, 2).sk,
        },
      }),
    ]);
  });

  it('reads a hole’s seqs that were not stored yet again after a pause, and pushes each of them first, once', async () => {
    // Prepare: seq 1 pushed; seq 6 comes while 2 and 4 are stored and the senders of 3 and 5 still write
    const chatE = 'ch_eeeeeeeeeeeeeeeeeeee';
    subscribers(chatE, ['e1=']);
    const items = (...seqs: number[]) => ({
      Items: seqs.map((seq) => unmarshall(record(chatE, seq).dynamodb?.NewImage as never)),
    });
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':from': keys.message(chatE, 2).sk } })
      .resolves(items(2, 4))
      .on(QueryCommand, { ExpressionAttributeValues: { ':from': keys.message(chatE, 3).sk } })
      .resolvesOnce(items(4))
      .resolves(items(3, 4, 5));
    await handler({ Records: [record(chatE, 1)] }, context);

    // Act
    const withHole = await handler({ Records: [record(chatE, 6)] }, context);
    const late = await handler({ Records: [2, 3, 4, 5].map((seq) => record(chatE, seq)) }, context);

    // Assess: in seq order, each once; the reads after the first ask only for the range still missing
    expect([withHole.batchItemFailures, late.batchItemFailures]).toEqual([[], []]);
    expect(api.calls('POST').map((call) => JSON.parse(call.body).seq)).toEqual([1, 2, 3, 4, 5, 6]);
    const ranges = ddb
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input.ExpressionAttributeValues)
      .filter((values) => values?.[':from'] !== undefined)
      .map((values) => [values?.[':from'], values?.[':to']]);
    expect(ranges).toEqual([
      [keys.message(chatE, 2).sk, keys.message(chatE, 5).sk],
      [keys.message(chatE, 3).sk, keys.message(chatE, 5).sk],
      [keys.message(chatE, 3).sk, keys.message(chatE, 5).sk],
    ]);
  });

  it('keeps reading a hole past the fixed pauses while each read finds more of it, and stops at one that finds nothing new', async () => {
    // Prepare: seq 1 pushed; seq 8 comes while 2..7 are stored one by one (a burst on a slow table), then
    // seq 14 while 9, 10 and 11 are stored one by one and the senders of 12 and 13 never write
    const chatG = 'ch_gggggggggggggggggggg';
    subscribers(chatG, ['g1=']);
    // What a read starting at each seq finds
    const finds: Array<[number, number[]]> = [
      [2, [2]],
      [3, [3]],
      [4, [4]],
      [5, [5, 6, 7]],
      [9, [9]],
      [10, [10]],
      [11, [11]],
      [12, []],
    ];
    for (const [start, seqs] of finds)
      ddb
        .on(QueryCommand, { ExpressionAttributeValues: { ':from': keys.message(chatG, start).sk } })
        .resolves({ Items: seqs.map((seq) => unmarshall(record(chatG, seq).dynamodb?.NewImage as never)) });
    await handler({ Records: [record(chatG, 1)] }, context);

    // Act
    const burst = await handler({ Records: [record(chatG, 8)] }, context);
    const stalled = await handler({ Records: [record(chatG, 14)] }, context);

    // Assess: 2..7 before 8 (the fourth read, past the fixed pauses, found the last three); 12..13 were
    // read once past them, which found nothing new, so 14 went without them
    expect([burst.batchItemFailures, stalled.batchItemFailures]).toEqual([[], []]);
    expect(api.calls('POST').map((call) => JSON.parse(call.body).seq)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14,
    ]);
    const starts = ddb
      .commandCalls(QueryCommand)
      .map((call) => call.args[0].input.ExpressionAttributeValues?.[':from'])
      .filter((start) => start !== undefined);
    expect(starts).toEqual([2, 3, 4, 5, 9, 10, 11, 12].map((seq) => keys.message(chatG, seq).sk));
  });

  it('reads a new chat’s first messages from seq 1 when they come after its creation record out of order', async () => {
    // Prepare: the chat's creation record, then seqs 3 and 4 while 1 and 2 are in the table only
    const chat = chatRecord('2026-11-21T10:00:00.000Z');
    const chatId = chat.chatId;
    subscribers(chatId, ['f1=']);
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':pk': keys.watcher('acme', '').pk } })
      .resolves({ Items: [] })
      .on(QueryCommand, { ExpressionAttributeValues: { ':from': keys.message(chatId, 1).sk } })
      .resolves({ Items: [1, 2].map((seq) => unmarshall(record(chatId, seq).dynamodb?.NewImage as never)) });
    const created: DynamoDBRecord = {
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: `${chatId}-created`,
        NewImage: marshall({ ...keys.chatCreated(chatId), entity: 'chatCreated', data: chat }) as never,
      },
    };
    await handler({ Records: [created] }, context);

    // Act
    const first = await handler({ Records: [record(chatId, 3), record(chatId, 4)] }, context);
    const late = await handler({ Records: [record(chatId, 1), record(chatId, 2)] }, context);

    // Assess
    expect([first.batchItemFailures, late.batchItemFailures]).toEqual([[], []]);
    expect(api.calls('POST').map((call) => JSON.parse(call.body).seq)).toEqual([1, 2, 3, 4]);
  });

  it('pushes a batch’s message as before when its hole cannot be read or is not stored yet', async () => {
    // Prepare
    const chatD = 'ch_dddddddddddddddddddd';
    subscribers(chatD, ['d1=']);
    ddb
      .on(QueryCommand, { ExpressionAttributeValues: { ':from': keys.message(chatD, 2).sk } })
      .rejects(new Error('throttled'))
      .on(QueryCommand, { ExpressionAttributeValues: { ':from': keys.message(chatD, 4).sk } })
      .resolves({ Items: [] });
    await handler({ Records: [record(chatD, 1)] }, context);

    // Act
    const unreadable = await handler({ Records: [record(chatD, 3)] }, context);
    const notStored = await handler({ Records: [record(chatD, 5)] }, context);
    const late = await handler({ Records: [record(chatD, 2), record(chatD, 4)] }, context);

    // Assess: every record succeeds and every message reaches the socket once
    expect([unreadable, notStored, late].map((result) => result.batchItemFailures)).toEqual([[], [], []]);
    expect(api.calls('POST').map((call) => JSON.parse(call.body).seq)).toEqual([1, 3, 5, 2, 4]);
  });

  it('deletes a gone (410) connection and its subscriptions, and the record still succeeds', async () => {
    subscribers(chatA, ['gone=', 'live=']);
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'CONN#gone=' } }).resolves({
      Items: [
        { pk: 'CONN#gone=', sk: 'CONN' },
        { pk: 'CONN#gone=', sk: `SUB#${chatA}`, chatId: chatA },
      ],
    });
    api.answer('POST', 'gone=', 'gone');

    const result = await handler({ Records: [record(chatA, 1)] }, context);

    expect(result.batchItemFailures).toEqual([]);
    const deleted = ddb
      .commandCalls(BatchWriteCommand)
      .flatMap((call) => call.args[0].input.RequestItems?.['chat-test'] ?? [])
      .map((request) => request.DeleteRequest?.Key)
      // The connection item itself is deleted alone (ReturnValues ALL_OLD: the stats count it down once).
      .concat(ddb.commandCalls(DeleteCommand).map((call) => call.args[0].input.Key));
    expect(deleted).toEqual(
      expect.arrayContaining([
        { pk: 'CONN#gone=', sk: 'CONN' },
        { pk: 'CONN#gone=', sk: `SUB#${chatA}` },
        { pk: `CHAT#${chatA}`, sk: 'SUB#gone=' },
      ]),
    );
  });

  it('reports a failed record and the later records of the same chat, but not other chats, when a push and the close of its socket both fail', async () => {
    subscribers(chatA, ['a=']);
    subscribers(chatB, ['b=']);
    api.answer('POST', 'a=', { status: 429, type: 'LimitExceededException' });
    api.answer('DELETE', 'a=', { status: 500, type: 'InternalServerErrorException' });

    const result = await handler(
      { Records: [record(chatA, 1), record(chatB, 1), record(chatA, 2), record(chatB, 2)] },
      context,
    );

    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([`${chatA}-1`, `${chatA}-2`]);
    // The first try and two retries, then the close.
    expect(api.calls('POST', 'a=')).toHaveLength(3);
    expect(api.calls('DELETE', 'a=')).toHaveLength(1);
    expect(api.calls('POST', 'b=')).toHaveLength(2);
  });

  it('closes the socket of a push that keeps failing, and the record succeeds (deliver or disconnect)', async () => {
    subscribers(chatA, ['a=', 'b=']);
    api.answer('POST', 'a=', { status: 500, type: 'InternalServerErrorException' });

    const result = await handler({ Records: [record(chatA, 1), record(chatA, 2)] }, context);

    expect(result.batchItemFailures).toEqual([]);
    expect(api.calls('DELETE').map((call) => call.connectionId)).toEqual(['a=']);
    // The closed socket is left out of the chat's later record; its client catches up.
    expect(api.calls('POST', 'a=')).toHaveLength(3);
    expect(api.calls('POST', 'b=')).toHaveLength(2);
  });

  it('reads the subscribers of a chat once per batch', async () => {
    // Prepare
    subscribers(chatA, ['c1=', 'c2=']);

    // Act
    await handler({ Records: [record(chatA, 1), record(chatA, 2), record(chatA, 3)] }, context);

    // Assess
    const subscriberReads = ddb
      .commandCalls(QueryCommand)
      .filter((call) => call.args[0].input.ExpressionAttributeValues?.[':sub'] === 'SUB#');
    expect(subscriberReads).toHaveLength(1);
    expect(api.calls('POST')).toHaveLength(6);
  });

  it('stops posting to a connection answered 410 for the rest of the batch', async () => {
    // Prepare: one gone connection among the chat's subscribers
    subscribers(chatA, ['gone=', 'live=']);
    ddb.on(QueryCommand, { ExpressionAttributeValues: { ':pk': 'CONN#gone=' } }).resolves({ Items: [] });
    api.answer('POST', 'gone=', 'gone');

    // Act
    const result = await handler(
      { Records: [record(chatA, 1), record(chatA, 2), record(chatA, 3)] },
      context,
    );

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(api.calls('POST', 'gone=')).toHaveLength(1);
    expect(api.calls('POST', 'live=')).toHaveLength(3);
  });

  it('starts no record past half the time it had and hands the rest back to the stream', async () => {
    // Prepare: no time left when the handler's body asks (first, as it starts), so only the first record
    // may start (an invocation always makes progress). middy asks next, to set its own early time-out:
    // it is told a minute, so that it does not cut off the posts the test waits for.
    subscribers(chatA, ['c1=']);
    let asked = 0;
    const late = { ...context, getRemainingTimeInMillis: () => (asked++ === 0 ? 0 : 60_000) } as Context;

    // Act
    const result = await handler({ Records: [record(chatA, 1), record(chatA, 2), record(chatA, 3)] }, late);

    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual([`${chatA}-2`, `${chatA}-3`]);
    const seqs = api.calls('POST').map((call) => JSON.parse(call.body).seq);
    expect(seqs).toEqual([1]);
  });

  it('skips records that are not messages instead of failing the batch', async () => {
    const notAMessage: DynamoDBRecord = {
      eventName: 'INSERT',
      dynamodb: { SequenceNumber: '9', NewImage: marshall({ entity: 'chat' }) as never },
    };

    const result = await handler({ Records: [notAMessage] }, context);

    expect(result.batchItemFailures).toEqual([]);
    expect(api.calls('POST')).toHaveLength(0);
  });
});

describe('fan-out stats counters', () => {
  const dayAdds = () =>
    ddb
      .commandCalls(UpdateCommand)
      .map((call) => call.args[0].input)
      .filter((input) => input.Key?.sk === 'DAY#2026-11-21')
      .map((input) => ({ pk: input.Key?.pk, n: input.ExpressionAttributeValues?.[':n'] }));

  it('adds the batch’s messages with one write per tenant and day', async () => {
    subscribers(chatA, []);
    subscribers(chatB, []);

    await handler({ Records: [record(chatA, 1), record(chatB, 1), record(chatA, 2)] }, context);

    expect(dayAdds()).toEqual([{ pk: 'STATS#acme', n: 3 }]);
  });

  it('counts only the records before the first failure, since the stream delivers the rest again', async () => {
    subscribers(chatA, ['a=']);
    subscribers(chatB, []);
    api.answer('POST', 'a=', { status: 429, type: 'LimitExceededException' });
    api.answer('DELETE', 'a=', { status: 500, type: 'InternalServerErrorException' });

    await handler(
      { Records: [record(chatB, 1), record(chatB, 2), record(chatA, 1), record(chatB, 3)] },
      context,
    );

    expect(dayAdds()).toEqual([{ pk: 'STATS#acme', n: 2 }]);
  });

  it('counts the same messages in MessagesSent, once per batch', async () => {
    // Prepare
    subscribers(chatA, ['a=']);
    subscribers(chatB, []);
    api.answer('POST', 'a=', { status: 429, type: 'LimitExceededException' });
    api.answer('DELETE', 'a=', { status: 500, type: 'InternalServerErrorException' });
    const added = vi.spyOn(metrics, 'addMetric');

    // Act: chat A's record fails, so it and the records after it are delivered again
    await handler(
      { Records: [record(chatB, 1), record(chatB, 2), record(chatA, 1), record(chatB, 3)] },
      context,
    );

    // Assess
    const sent = added.mock.calls.filter(([name]) => name === 'MessagesSent');
    added.mockRestore();
    expect(sent).toEqual([['MessagesSent', 'Count', 2]]);
  });
});

describe('fan-out stats counters in a tumbling window', () => {
  const windowOf = (state: unknown, flags: { final?: boolean; early?: boolean } = {}) => ({
    window: { start: '2026-11-21T10:00:00Z', end: '2026-11-21T10:01:00Z' },
    state,
    shardId: 'shardId-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:1:table/t/stream/s',
    isFinalInvokeForWindow: flags.final ?? false,
    isWindowTerminatedEarly: flags.early ?? false,
  });
  const statsWrites = () =>
    ddb.commandCalls(UpdateCommand).filter((call) => String(call.args[0].input.Key?.pk).startsWith('STATS#'));
  type Windowed = { batchItemFailures: unknown[]; state?: unknown };

  it('adds the batch to the window state and writes no counter until the window ends', async () => {
    // Prepare
    subscribers(chatA, []);
    subscribers(chatB, []);

    // Act: the window's second invocation
    const first = (await handler(
      { Records: [record(chatA, 1)], ...windowOf({}) } as DynamoDBStreamEvent,
      context,
    )) as Windowed;
    const second = (await handler(
      { Records: [record(chatB, 1), record(chatA, 2)], ...windowOf(first.state) } as DynamoDBStreamEvent,
      context,
    )) as Windowed;

    // Assess
    expect(statsWrites()).toEqual([]);
    expect(second).toEqual({
      batchItemFailures: [],
      state: { messages: { acme: { '2026-11-21': 3 } }, delivered: 0 },
    });
  });

  it('writes the window’s sums at its final invocation and answers an empty state', async () => {
    // Prepare
    const state = { messages: { acme: { '2026-11-21': 41 }, other: { '2026-11-20': 2 } }, delivered: 0 };

    // Act
    const response = (await handler(
      { Records: [], ...windowOf(state, { final: true }) } as DynamoDBStreamEvent,
      context,
    )) as Windowed;

    // Assess
    expect(response).toEqual({ batchItemFailures: [], state: {} });
    const writes = statsWrites().map((call) => [
      call.args[0].input.Key,
      call.args[0].input.ExpressionAttributeValues?.[':n'],
    ]);
    expect(writes).toHaveLength(2);
    expect(writes).toContainEqual([{ pk: 'STATS#acme', sk: 'DAY#2026-11-21' }, 41]);
    expect(writes).toContainEqual([{ pk: 'STATS#other', sk: 'DAY#2026-11-20' }, 2]);
  });

  it('counts the records of a final invocation and of a window ended early with its state', async () => {
    // Prepare
    subscribers(chatA, []);
    const state = { messages: { acme: { '2026-11-21': 5 } }, delivered: 0 };

    // Act
    await handler(
      { Records: [record(chatA, 1)], ...windowOf(state, { final: true }) } as DynamoDBStreamEvent,
      context,
    );
    await handler(
      { Records: [record(chatA, 2)], ...windowOf(state, { early: true }) } as DynamoDBStreamEvent,
      context,
    );

    // Assess
    expect(statsWrites().map((call) => call.args[0].input.ExpressionAttributeValues?.[':n'])).toEqual([6, 6]);
  });

  it('writes a batch’s open-chat changes at once and keeps its messages for the window’s end', async () => {
    // Prepare: a message and a chat's close audit record in one batch of the window
    subscribers(chatA, []);
    const closed: DynamoDBRecord = {
      eventName: 'INSERT',
      dynamodb: {
        SequenceNumber: 'audit-1',
        NewImage: marshall({
          pk: `CHAT#${chatB}`,
          sk: 'AUDIT#2026-11-21T10:00:00.000Z#e1',
          entity: 'audit',
          tenantId: 'acme',
          chatId: chatB,
          action: 'chat.close',
        }) as never,
      },
    };

    // Act
    const response = (await handler(
      { Records: [record(chatA, 1), closed], ...windowOf({}) } as DynamoDBStreamEvent,
      context,
    )) as Windowed;

    // Assess
    expect(
      statsWrites().map((call) => [
        call.args[0].input.Key,
        call.args[0].input.ExpressionAttributeValues?.[':d'],
      ]),
    ).toEqual([[{ pk: 'STATS#acme', sk: 'COUNTERS' }, -1]]);
    expect(response.state).toEqual({
      messages: { acme: { '2026-11-21': 1 } },
      delivered: 0,
    });
  });

  it('delivers the batch and starts the count afresh when the window state is not its own', async () => {
    // Prepare
    subscribers(chatA, ['a=']);

    // Act
    const response = (await handler(
      { Records: [record(chatA, 1)], ...windowOf({ messages: 'lots' }) } as DynamoDBStreamEvent,
      context,
    )) as Windowed;

    // Assess
    expect(api.calls('POST', 'a=')).toHaveLength(1);
    expect(response.state).toEqual({
      messages: { acme: { '2026-11-21': 1 } },
      delivered: 1,
    });
  });
  it('publishes MessagesSent and EnvelopesDelivered once per window, at its end, with the window’s sums', async () => {
    // Prepare
    subscribers(chatA, ['a=', 'b=']);
    const added = vi.spyOn(metrics, 'addMetric');

    // Act
    const first = (await handler(
      { Records: [record(chatA, 1), record(chatA, 2)], ...windowOf({}) } as DynamoDBStreamEvent,
      context,
    )) as Windowed;
    const duringWindow = added.mock.calls.length;
    await handler({ Records: [], ...windowOf(first.state, { final: true }) } as DynamoDBStreamEvent, context);

    // Assess
    const published = added.mock.calls.map(([name, , value]) => [name, value]);
    added.mockRestore();
    expect(duringWindow).toBe(0);
    expect(published).toEqual([
      ['MessagesSent', 2],
      ['EnvelopesDelivered', 4],
    ]);
  });
});

describe('startBudget', () => {
  it('lets records start during the first half of the time left, then no more', () => {
    // Prepare: 60 s left at t = 1 s, so records may start until t = 31 s
    let now = 1_000;
    const mayStart = startBudget(60_000, () => now);

    // Act
    now = 30_999;
    const beforeHalf = [mayStart(), mayStart()];
    now = 31_000;
    const atHalf = mayStart();

    // Assess
    expect(beforeHalf).toEqual([true, true]);
    expect(atHalf).toBe(false);
  });

  it('always lets the first record start, even with no time left', () => {
    // Prepare
    const now = 5_000;
    const mayStart = startBudget(0, () => now);

    // Act
    const first = mayStart();
    const second = mayStart();

    // Assess
    expect([first, second]).toEqual([true, false]);
  });
});
