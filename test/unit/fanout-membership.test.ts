/**
 * The fan-out pushes a chat's envelopes only to subscribers still entitled to them: a visitor's or
 * user's subscription that outlived its removal from the chat is skipped; agents and services (who may
 * read every chat of their tenant) and subscriptions written before they kept a role are not. A
 * message whose membersVersion matches the subscriptions' needs no participants read. AWS clients are
 * mocked.
 */
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type ConnectionsEndpoint, startConnectionsEndpoint } from '../support/connections-endpoint.ts';
import { useHandlerTestEnv } from '../support/handler-env.ts';

useHandlerTestEnv();

const ddb = mockClient(DynamoDBDocumentClient);
let api: ConnectionsEndpoint;
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
  ({ handler } = (await import('../../functions/stream/fanout.ts')) as unknown as {
    handler: typeof handler;
  });
});
afterAll(() => api.close());
beforeEach(() => {
  ddb.reset();
  api.reset();
  ddb.on(UpdateCommand).resolves({});
});

const chatId = 'ch_aaaaaaaaaaaaaaaaaaaa';
const record = (seq: number, membersVersion?: number): DynamoDBRecord => ({
  eventName: 'INSERT',
  dynamodb: {
    SequenceNumber: `${seq}`,
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
      ...(membersVersion === undefined ? {} : { membersVersion }),
    }) as never,
  },
});

const subscriptions = (items: Record<string, string | number>[]) =>
  ddb
    .on(QueryCommand, { ExpressionAttributeValues: { ':pk': `CHAT#${chatId}`, ':sub': 'SUB#' } })
    .resolves({ Items: items });
const participants = (userIds: string[]) =>
  ddb
    .on(QueryCommand, { ExpressionAttributeValues: { ':pk': `CHAT#${chatId}`, ':part': 'PART#' } })
    .resolves({
      Items: userIds.map((userId) => ({ userId, role: 'user', joinedAt: '2026-11-21T09:00:00.000Z' })),
    });
const pushedTo = () => [...new Set(api.calls('POST').map((call) => call.connectionId))];
/** The fan-out's consistent reads of the participants (moving the chat up its lists reads them too). */
const participantReads = () =>
  ddb
    .commandCalls(QueryCommand)
    .filter(
      (call) =>
        call.args[0].input.ExpressionAttributeValues?.[':part'] === 'PART#' &&
        call.args[0].input.ConsistentRead === true,
    );

describe('fan-out to entitled subscribers', () => {
  it('skips a removed user’s subscription and keeps agents, services and participants', async () => {
    // Prepare: bob was removed, his subscription is still there
    subscriptions([
      { connectionId: 'alice=', userId: 'alice', role: 'user' },
      { connectionId: 'bob=', userId: 'bob', role: 'user' },
      { connectionId: 'visitor=', userId: 'v_1', role: 'visitor' },
      { connectionId: 'agent=', userId: 'agent-1', role: 'agent' },
      { connectionId: 'bot=', userId: 'payments', role: 'service' },
    ]);
    participants(['alice', 'v_1']);

    // Act
    const result = await handler({ Records: [record(1), record(2)] }, context);

    // Assess: one read of the participants for the chat's two records
    expect(result.batchItemFailures).toEqual([]);
    expect(pushedTo().sort()).toEqual(['agent=', 'alice=', 'bot=', 'visitor=']);
    expect(api.calls('POST')).toHaveLength(8);
    expect(participantReads()).toHaveLength(1);
  });

  it('reads no participants when only staff and subscriptions without a role are subscribed', async () => {
    // Prepare
    subscriptions([{ connectionId: 'agent=', userId: 'agent-1', role: 'agent' }, { connectionId: 'old=' }]);

    // Act
    await handler({ Records: [record(1)] }, context);

    // Assess
    expect(pushedTo().sort()).toEqual(['agent=', 'old=']);
    expect(participantReads()).toHaveLength(0);
  });

  it('reads no participants for messages of the version every customer subscribed at', async () => {
    // Prepare
    subscriptions([
      { connectionId: 'alice=', userId: 'alice', role: 'user', membersVersion: 2 },
      { connectionId: 'visitor=', userId: 'v_1', role: 'visitor', membersVersion: 2 },
      { connectionId: 'agent=', userId: 'agent-1', role: 'agent', membersVersion: 2 },
    ]);
    participants(['alice', 'v_1']);

    // Act
    const result = await handler({ Records: [record(1, 2), record(2, 2)] }, context);

    // Assess
    expect(result.batchItemFailures).toEqual([]);
    expect(pushedTo().sort()).toEqual(['agent=', 'alice=', 'visitor=']);
    expect(participantReads()).toHaveLength(0);
  });

  it('skips a subscription authorized before a removal for the messages after it', async () => {
    // Prepare: bob subscribed at version 0 and was removed (version 1); alice subscribed at version 1
    subscriptions([
      { connectionId: 'alice=', userId: 'alice', role: 'user', membersVersion: 1 },
      { connectionId: 'bob=', userId: 'bob', role: 'user', membersVersion: 0 },
    ]);
    participants(['alice']);

    // Act: a message reserved before the removal (version 0), and one after it (version 1)
    const result = await handler({ Records: [record(1, 0), record(2, 1)] }, context);

    // Assess: seq 1 went to bob (he took part when it was sent) and, after a read, to alice; seq 2 to alice only
    expect(result.batchItemFailures).toEqual([]);
    const seqsTo = (connectionId: string) =>
      api
        .calls('POST')
        .filter((call) => call.connectionId === connectionId)
        .map((call) => (JSON.parse(call.body) as { data: { seq: number } }).data.seq);
    expect(seqsTo('bob=')).toEqual([1]);
    expect(seqsTo('alice=')).toEqual([1, 2]);
    expect(participantReads()).toHaveLength(1);
  });
});
