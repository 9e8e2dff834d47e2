/** Stats: what a batch of stream items adds to the counters, and who may read them. */
import { describe, expect, it } from 'vitest';
import type { Identity } from '../../shared/domain/identity.ts';
import type { StatsStore } from '../../shared/domain/ports.ts';
import {
  addTallies,
  connectionTallyOf,
  StatsService,
  messagesStateSchema,
  messagesToState,
  tallyOf,
  tallyOfMessagesState,
} from '../../shared/domain/stats.ts';

const message = (tenantId: string, createdAt: string) => ({ entity: 'message', tenantId, createdAt });

describe('tallyOf', () => {
  it('counts messages per tenant and UTC day, and open-chat changes per tenant', () => {
    // Prepare
    const items = [
      message('acme', '2026-11-21T23:59:59.000Z'),
      message('acme', '2026-11-21T10:00:00.000Z'),
      message('acme', '2026-11-22T00:00:00.000Z'),
      message('other', '2026-11-21T10:00:00.000Z'),
      { entity: 'chatCreated', tenantId: 'acme', data: { status: 'open' } },
      { entity: 'chatCreated', tenantId: 'acme', data: { status: 'open' } },
      { entity: 'audit', tenantId: 'acme', action: 'chat.close' },
      { entity: 'audit', tenantId: 'other', action: 'chat.close' },
      { entity: 'audit', tenantId: 'other', action: 'chat.reopen' },
      { entity: 'audit', tenantId: 'acme', action: 'chat.update' },
      { entity: 'chatEvent', tenantId: 'acme', type: 'chat.closed' },
    ];

    // Act
    const tally = tallyOf(items);

    // Assess
    expect([...tally.messages.values()]).toEqual([
      { tenantId: 'acme', day: '2026-11-21', count: 2 },
      { tenantId: 'acme', day: '2026-11-22', count: 1 },
      { tenantId: 'other', day: '2026-11-21', count: 1 },
    ]);
    expect(Object.fromEntries(tally.openChats)).toEqual({ acme: 1, other: 0 });
  });
});

describe('messages as a window state', () => {
  it('sums two tallies’ messages and survives the JSON trip between invocations', () => {
    // Prepare
    const first = tallyOf([message('acme', '2026-11-21T10:00:00.000Z')]);
    const second = tallyOf([
      message('acme', '2026-11-21T11:00:00.000Z'),
      message('other', '2026-11-22T00:00:00.000Z'),
      { entity: 'audit', tenantId: 'acme', action: 'chat.close' },
    ]);

    // Act
    const state = JSON.parse(JSON.stringify(messagesToState(addTallies(first, second)))) as unknown;
    const back = tallyOfMessagesState(messagesStateSchema.parse(state));

    // Assess: the messages only (open-chat changes are written by their batch)
    expect(state).toEqual({ acme: { '2026-11-21': 2 }, other: { '2026-11-22': 1 } });
    expect([...back.messages.values()]).toEqual([
      { tenantId: 'acme', day: '2026-11-21', count: 2 },
      { tenantId: 'other', day: '2026-11-22', count: 1 },
    ]);
    expect(back.openChats.size).toBe(0);
  });

  it('reads a first invocation’s empty state as nothing counted, and refuses a state of another shape', () => {
    // Act
    const empty = tallyOfMessagesState(messagesStateSchema.parse({}));
    const foreign = messagesStateSchema.safeParse({ acme: { yesterday: 3 } });

    // Assess
    expect(empty.messages.size + empty.openChats.size).toBe(0);
    expect(foreign.success).toBe(false);
  });
});

describe('connectionTallyOf', () => {
  it('nets connections opened and gone per tenant and role', () => {
    // Act
    const tally = connectionTallyOf([
      { tenantId: 'acme', role: 'agent', delta: 1 },
      { tenantId: 'acme', role: 'agent', delta: 1 },
      { tenantId: 'acme', role: 'visitor', delta: 1 },
      { tenantId: 'acme', role: 'visitor', delta: -1 },
      { tenantId: 'other', role: 'agent', delta: -1 },
    ]);

    // Assess
    expect([...tally.values()]).toEqual([
      { tenantId: 'acme', role: 'agent', delta: 2 },
      { tenantId: 'acme', role: 'visitor', delta: 0 },
      { tenantId: 'other', role: 'agent', delta: -1 },
    ]);
  });
});

describe('StatsService', () => {
  const calls: string[] = [];
  const store: StatsStore = {
    addConnection: async (tenantId, role, delta) =>
      void calls.push(`connections ${tenantId} ${role} ${delta}`),
    setAgentOnline: async () => {},
    addOpenChats: async (tenantId, delta) => void calls.push(`open ${tenantId} ${delta}`),
    addMessages: async (tenantId, day, count) => void calls.push(`messages ${tenantId} ${day} ${count}`),
    counters: async () => ({ connections: 3, agentConnections: 2, agentsOnline: 1, openChats: 2 }),
    snapshot: async () => ({
      connections: 3,
      agentConnections: 2,
      agentsOnline: 1,
      openChats: 2,
      messages: 7,
    }),
  };
  const service = new StatsService(store, { now: () => new Date('2026-11-21T10:00:00.000Z') });
  const as = (role: Identity['role']): Identity => ({ tenantId: 'acme', userId: 'u', role });

  it('answers agents and services with the counters of the current UTC day', async () => {
    // Act
    const answers = await Promise.all([service.get(as('agent')), service.get(as('service'))]);

    // Assess
    for (const answer of answers) {
      expect(answer).toEqual({
        liveConnections: 3,
        agentsOnline: 1,
        agentConnections: 2,
        openChats: 2,
        messagesToday: 7,
        day: '2026-11-21',
      });
    }
  });

  it('refuses visitors and users with 403', async () => {
    // Act
    const outcomes = await Promise.allSettled([service.get(as('visitor')), service.get(as('user'))]);

    // Assess
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({ status: 'rejected', reason: { status: 403 } });
    }
  });

  it('writes one ADD per tenant and day, and none for a net-zero open-chat change', async () => {
    // Prepare
    calls.length = 0;

    // Act
    await service.record(
      tallyOf([
        message('acme', '2026-11-21T10:00:00.000Z'),
        message('acme', '2026-11-21T10:00:01.000Z'),
        { entity: 'audit', tenantId: 'acme', action: 'chat.close' },
        { entity: 'audit', tenantId: 'acme', action: 'chat.reopen' },
      ]),
    );

    // Assess
    expect(calls).toEqual(['messages acme 2026-11-21 2']);
  });

  it('writes one connection ADD per tenant and role whose count moved, none for a net-zero one', async () => {
    // Prepare
    calls.length = 0;

    // Act
    await service.recordConnections(
      connectionTallyOf([
        { tenantId: 'acme', role: 'agent', delta: 1 },
        { tenantId: 'acme', role: 'agent', delta: 1 },
        { tenantId: 'acme', role: 'visitor', delta: 1 },
        { tenantId: 'acme', role: 'visitor', delta: -1 },
      ]),
    );

    // Assess
    expect(calls).toEqual(['connections acme agent 2']);
  });
});
