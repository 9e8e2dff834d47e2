/**
 * A connection that has just opened and a push answered 410 (API Gateway's answer for a socket whose
 * `$connect` has not completed yet): the connection stays, a really gone one still goes. Against
 * DynamoDB Local, with the real connection, ticket, presence and stats stores.
 */
import { describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '../../shared/adapters/dynamo/connection-store.ts';
import { DynamoPresenceStore } from '../../shared/adapters/dynamo/presence-store.ts';
import { DynamoStatsStore } from '../../shared/adapters/dynamo/stats-store.ts';
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
  const stats = new DynamoStatsStore(table);
  const sessions = new ConnectionService(
    new DynamoTicketStore(table),
    connections,
    clock,
    { ticketTtlSeconds: 60, connectionTtlSeconds: 8100, publicUrl: 'ws://x' },
    stats,
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
  return { clock, connections, presence, stats, sessions, realtime, posts, open };
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
  it('keeps the connection, its presence and its count while the socket may still be opening', async () => {
    // Prepare: bob's socket has passed $connect; the gateway has not opened it yet (410)
    const { connections, presence, stats, realtime, posts, open } = await setUp();
    await open('c-new');

    // Act
    await realtime.notifyMentions(mentionOfBob());

    // Assess
    expect(posts).toContain('c-new');
    expect(await connections.get('c-new')).toBeDefined();
    expect((await presence.sockets('acme', ['bob'])).get('bob')).toEqual(['c-new']);
    expect((await stats.counters('acme')).connections).toBe(1);
  });

  it('keeps a new connection whose subscription a push finds within the grace, subscription included', async () => {
    // Prepare
    const { clock, connections, sessions, realtime, open } = await setUp();
    await open('c-new');
    await sessions.subscribe('c-new', CHAT);
    clock.advance((OPENING_GRACE_SECONDS - 1) * 1000);

    // Act
    await realtime.fanout(CHAT, chatEnvelope);

    // Assess
    expect(await connections.get('c-new')).toBeDefined();
    expect(await connections.subscribers(CHAT)).toEqual(['c-new']);
  });

  it('removes a connection older than the grace, with its subscription, presence and count', async () => {
    // Prepare
    const { clock, connections, presence, stats, sessions, realtime, open } = await setUp();
    await open('c-old');
    await sessions.subscribe('c-old', CHAT);
    clock.advance((OPENING_GRACE_SECONDS + 1) * 1000);

    // Act
    await realtime.fanout(CHAT, chatEnvelope);

    // Assess
    expect(await connections.get('c-old')).toBeUndefined();
    expect(await connections.subscribers(CHAT)).toEqual([]);
    expect((await presence.sockets('acme', ['bob'])).get('bob') ?? []).toEqual([]);
    expect((await stats.counters('acme')).connections).toBe(0);
  });

  it('lets $disconnect remove a connection however young', async () => {
    // Prepare
    const { connections, stats, sessions, open } = await setUp();
    await open('c-new');

    // Act
    await sessions.disconnect('c-new');

    // Assess
    expect(await connections.get('c-new')).toBeUndefined();
    expect((await stats.counters('acme')).connections).toBe(0);
  });
});
