/** The stats counters against DynamoDB Local. */
import { describe, expect, it } from 'vitest';
import { DynamoStatsStore } from '../../shared/adapters/dynamo/stats-store.ts';
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
