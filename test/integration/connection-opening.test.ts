/**
 * A connection that has just opened and a push answered 410 (API Gateway's answer for a socket whose
 * `$connect` has not completed yet): the connection stays, a really gone one still goes. Against
 * DynamoDB Local, with the real connection, ticket and presence stores.
 */
import { describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '../../shared/adapters/dynamo/connection-store.ts';
import { DynamoPresenceStore } from '../../shared/adapters/dynamo/presence-store.ts';
import { DynamoTicketStore } from '../../shared/adapters/dynamo/ticket-store.ts';
import { ConnectionService, OPENING_GRACE_SECONDS } from '../../shared/domain/connections.ts';
import type { ChatStore, Pusher } from '../../shared/domain/ports.ts';
import { RealtimeService } from '../../shared/domain/realtime.ts';
import type { Message } from '../../shared/domain/schemas.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();
const CHAT = 'ch_aaaaaaaaaaaaaaaaaaaa';

/** Services over one fresh table; `clock.advance` moves their time; every post is answered 410. */
const setUp = async () => {
  const table = await dynamo.table();
  let now = Date.now();
  const clock = { now: () => new Date(now), advance: (ms: number) => void (now += ms) };
  const connections = new DynamoConnectionStore(table);
  const presence = new DynamoPresenceStore(table);
  const sessions = new ConnectionService(
    new DynamoTicketStore(table),
    connections,
    clock,
    { ticketTtlSeconds: 60, connectionTtlSeconds: 8100, publicUrl: 'ws://x' },
    presence,
  );
  const posts: string[] = [];
  const pusher: Pusher = {
    post: async (connectionId) => {
      posts.push(connectionId);
      return 'gone';
    },
    disconnect: async () => 'gone',
  };
  const realtime = new RealtimeService(
    connections,
    sessions,
    // bob is a participant of CHAT: the fan-out's entitlement check keeps his subscription
    { addMentions: async () => {}, participants: async () => [{ userId: 'bob' }] } as unknown as ChatStore,
    pusher,
    { fanoutConcurrency: 4, pushRetryDelaysMs: [], sleep: async () => {} },
    undefined,
    { presence, chats: { addMentions: async () => {} } },
  );
  const identity = { tenantId: 'acme', userId: 'bob', role: 'user' as const };
  /** `$connect` with a fresh ticket of bob's. */
  const open = async (connectionId: string) => {
    const { ticket } = await sessions.issueTicket(identity);
    await sessions.connect(connectionId, ticket);
  };
  /** A `subscribe` frame over the connection (its item as the frame's middleware reads it). */
  const subscribe = async (connectionId: string, chatId: string) => {
    const connection = await connections.get(connectionId);
    if (!connection) throw new Error(`no connection ${connectionId}`);
    await sessions.subscribe(connection, [chatId]);
  };
  return { clock, connections, presence, sessions, realtime, posts, open, subscribe };
};

/** A message from ann that mentions bob: a `mention` goes to every socket on bob's presence item. */
const mentionOfBob = (): Message =>
  ({
    messageId: 'm_1',
    chatId: CHAT,
    tenantId: 'acme',
    seq: 1,
    senderId: 'ann',
    senderRole: 'user',
    type: 'text',
    text: 'hi @bob',
    mentions: ['bob'],
    createdAt: new Date().toISOString(),
  }) as unknown as Message;

const chatEnvelope = {
  type: 'pong' as const,
  id: 'e1',
  tenantId: 'acme',
  at: '2026-12-04T10:00:00.000Z',
  data: {},
};

describe('a push answered 410 to a connection that has just opened', () => {
  it('keeps the connection and its presence while the socket may still be opening', async () => {
    // Prepare: bob's socket has passed $connect; the gateway has not opened it yet (410)
    const { connections, presence, realtime, posts, open } = await setUp();
    await open('c-new');

    // Act
    await realtime.notifyMentions(mentionOfBob());

    // Assess
    expect(posts).toContain('c-new');
    expect(await connections.get('c-new')).toBeDefined();
    expect((await presence.sockets('acme', ['bob'])).get('bob')).toEqual(['c-new']);
  });

  it('keeps a new connection whose subscription a push finds within the grace, subscription included', async () => {
    // Prepare
    const { clock, connections, realtime, open, subscribe } = await setUp();
    await open('c-new');
    await subscribe('c-new', CHAT);
    clock.advance((OPENING_GRACE_SECONDS - 1) * 1000);

    // Act
    await realtime.fanout(CHAT, chatEnvelope);

    // Assess
    expect(await connections.get('c-new')).toBeDefined();
    expect(await connections.subscribers(CHAT)).toEqual(['c-new']);
  });

  it('removes a connection older than the grace, with its subscription and presence', async () => {
    // Prepare
    const { clock, connections, presence, realtime, open, subscribe } = await setUp();
    await open('c-old');
    await subscribe('c-old', CHAT);
    clock.advance((OPENING_GRACE_SECONDS + 1) * 1000);

    // Act
    await realtime.fanout(CHAT, chatEnvelope);

    // Assess
    expect(await connections.get('c-old')).toBeUndefined();
    expect(await connections.subscribers(CHAT)).toEqual([]);
    expect((await presence.sockets('acme', ['bob'])).get('bob') ?? []).toEqual([]);
  });

  it('lets $disconnect remove a connection however young', async () => {
    // Prepare
    const { connections, sessions, open } = await setUp();
    await open('c-new');

    // Act
    await sessions.disconnect('c-new');

    // Assess
    expect(await connections.get('c-new')).toBeUndefined();
  });
});

describe('$connect that fails halfway', () => {
  const failing = async (fail: 'presence' | 'connection') => {
    const table = await dynamo.table();
    const connections = new DynamoConnectionStore(table);
    const presence = new DynamoPresenceStore(table);
    const sessions = new ConnectionService(
      new DynamoTicketStore(table),
      fail === 'connection'
        ? Object.assign(Object.create(connections) as DynamoConnectionStore, {
            put: async () => {
              throw new Error('ProvisionedThroughputExceededException');
            },
          })
        : connections,
      { now: () => new Date() },
      { ticketTtlSeconds: 60, connectionTtlSeconds: 8100, publicUrl: 'ws://x' },
      fail === 'presence'
        ? {
            open: async () => {
              throw new Error('ProvisionedThroughputExceededException');
            },
            close: presence.close.bind(presence),
          }
        : presence,
    );
    const { ticket } = await sessions.issueTicket({ tenantId: 'acme', userId: 'bob', role: 'user' });
    return { sessions, connections, presence, ticket };
  };

  it('leaves no connection item when the presence write fails', async () => {
    // Prepare
    const { sessions, connections, ticket } = await failing('presence');

    // Act
    const outcome = sessions.connect('c-half', ticket);

    // Assess
    await expect(outcome).rejects.toThrow('ProvisionedThroughputExceededException');
    expect(await connections.get('c-half')).toBeUndefined();
  });

  it('takes the socket off the presence item when the connection write fails', async () => {
    // Prepare
    const { sessions, presence, ticket } = await failing('connection');

    // Act
    const outcome = sessions.connect('c-half', ticket);

    // Assess
    await expect(outcome).rejects.toThrow('ProvisionedThroughputExceededException');
    expect((await presence.sockets('acme', ['bob'])).get('bob') ?? []).toEqual([]);
  });
});
