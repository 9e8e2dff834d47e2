/** The stats counters and the connection removal they rely on, against DynamoDB Local. */
import { describe, expect, it } from 'vitest';
import { DynamoConnectionStore } from '../../shared/adapters/dynamo/connection-store.ts';
import { DynamoStatsStore } from '../../shared/adapters/dynamo/stats-store.ts';
import { ConnectionService } from '../../shared/domain/connections.ts';
import { RealtimeService } from '../../shared/domain/realtime.ts';
import type { ChatStore, Pusher, TicketStore } from '../../shared/domain/ports.ts';
import { dynamoForFile } from '../support/dynamo.ts';

const dynamo = dynamoForFile();

describe('DynamoStatsStore', () => {
  it('adds connections per role, open chats and messages per day, and reads them back at once', async () => {
    // Prepare
    const store = new DynamoStatsStore(await dynamo.table());

    // Act
    await Promise.all([
      store.addConnection('acme', 'agent', 1),
      store.addConnection('acme', 'agent', 1),
      store.addConnection('acme', 'visitor', 1),
      store.addConnection('acme', 'agent', -1),
      store.addConnection('other', 'agent', 1),
      store.addOpenChats('acme', 3),
      store.addOpenChats('acme', -1),
      store.addMessages('acme', '2026-11-21', 5),
      store.addMessages('acme', '2026-11-21', 2),
      store.addMessages('acme', '2026-11-20', 9),
    ]);
    const snapshot = await store.snapshot('acme', '2026-11-21');
    const counters = await store.counters('acme');

    // Assess
    expect(snapshot).toEqual({
      connections: 2,
      agentConnections: 1,
      agentsOnline: 0,
      openChats: 2,
      messages: 7,
    });
    expect(counters).toEqual({ connections: 2, agentConnections: 1, agentsOnline: 0, openChats: 2 });
  });

  it('reads zeros for a tenant that never counted anything', async () => {
    // Prepare
    const store = new DynamoStatsStore(await dynamo.table());

    // Act
    const snapshot = await store.snapshot('quiet', '2026-11-21');

    // Assess
    expect(snapshot).toEqual({
      connections: 0,
      agentConnections: 0,
      agentsOnline: 0,
      openChats: 0,
      messages: 0,
    });
  });

  it('keeps agents online as a set: repeated transitions cannot make it drift', async () => {
    // Prepare
    const store = new DynamoStatsStore(await dynamo.table());

    // Act: ann comes online twice (a lost $disconnect), bob once and leaves, carl leaves without arriving
    await Promise.all([
      store.setAgentOnline('agents', 'ann', true),
      store.setAgentOnline('agents', 'ann', true),
      store.setAgentOnline('agents', 'bob', true),
      store.setAgentOnline('agents', 'carl', false),
    ]);
    const both = await store.counters('agents');
    await store.setAgentOnline('agents', 'bob', false);
    await store.setAgentOnline('agents', 'bob', false);
    const annOnly = await store.snapshot('agents', '2026-11-21');
    await store.setAgentOnline('agents', 'ann', false);
    const none = await store.counters('agents');

    // Assess
    expect(both.agentsOnline).toBe(2);
    expect(annOnly.agentsOnline).toBe(1);
    expect(none.agentsOnline).toBe(0);
  });
});

describe('connection counting', () => {
  it('counts a connection down once however often it is removed', async () => {
    // Prepare
    const table = await dynamo.table();
    const connections = new DynamoConnectionStore(table);
    const stats = new DynamoStatsStore(table);
    const identity = { tenantId: 'acme', userId: 'ann', role: 'agent' as const };
    const tickets: TicketStore = { put: async () => {}, consume: async () => identity };
    const sessions = new ConnectionService(
      tickets,
      connections,
      { now: () => new Date('2026-11-21T10:00:00.000Z') },
      { ticketTtlSeconds: 60, connectionTtlSeconds: 8100, publicUrl: 'ws://x' },
      stats,
    );
    const realtime = new RealtimeService(
      connections,
      sessions,
      {} as ChatStore,
      { post: async () => 'gone', disconnect: async () => 'gone' } as Pusher,
      { fanoutConcurrency: 4 },
    );
    await sessions.connect('c1', 'ticket');
    await sessions.connect('c2', 'ticket');
    await sessions.subscribe('c1', 'ch_aaaaaaaaaaaaaaaaaaaa');

    // Act: a $disconnect, the same $disconnect again, a 410 for it, and concurrent double removal of c2
    await sessions.disconnect('c1');
    await sessions.disconnect('c1');
    await realtime.push('c1', {
      type: 'pong',
      id: 'p',
      tenantId: 'acme',
      at: '2026-11-21T10:00:00.000Z',
      data: {},
    });
    const afterC1 = await stats.counters('acme');
    await Promise.all([sessions.disconnect('c2'), sessions.disconnect('c2')]);

    // Assess
    expect(afterC1).toEqual({ connections: 1, agentConnections: 1, agentsOnline: 0, openChats: 0 });
    expect(await stats.counters('acme')).toEqual({
      connections: 0,
      agentConnections: 0,
      agentsOnline: 0,
      openChats: 0,
    });
    expect(await connections.subscribers('ch_aaaaaaaaaaaaaaaaaaaa')).toEqual([]);
  });
});
