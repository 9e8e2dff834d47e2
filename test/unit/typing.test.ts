/** Typing indicators: who receives them, the typing state (rate limit) and best-effort pushes (fakes only). */
import { describe, expect, it } from 'vitest';
import { ForbiddenError, RateLimitedError } from '../../shared/domain/errors.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import type { TypingEnvelope } from '../../shared/domain/ephemeral.ts';
import type { Envelope } from '../../shared/domain/schemas.ts';
import { targetsOf, type TypingPorts, TypingService } from '../../shared/domain/typing.ts';

const chatId = 'ch_aaaaaaaaaaaaaaaaaaaa';
const alice: Identity = { tenantId: 'acme', userId: 'alice', role: 'user' };
const at = new Date('2026-11-21T10:00:00.000Z');

const setup = (overrides: Partial<TypingPorts> = {}) => {
  const pushed: { connectionId: string; envelope: Envelope }[] = [];
  /** The fake typing state: the last envelope per user and state; a second one of a state is refused. */
  const recorded = new Map<string, TypingEnvelope>();
  const ports: TypingPorts = {
    authorize: async (_identity, id) => ({ chatId: id, tenantId: 'acme' }),
    subscribers: async () => [
      { connectionId: 'alice-tab-1', userId: 'alice' },
      { connectionId: 'alice-tab-2', userId: 'alice' },
      { connectionId: 'bob-1', userId: 'bob' },
      { connectionId: 'legacy' },
    ],
    userOf: async (connectionId) => (connectionId === 'legacy' ? 'carol' : undefined),
    push: async (connectionId, envelope) => {
      pushed.push({ connectionId, envelope });
      return 'delivered';
    },
    state: {
      record: async (envelope) => {
        const key = `${envelope.chatId}#${envelope.data.userId}#${envelope.data.isTyping}`;
        if (recorded.has(key)) return false;
        recorded.set(key, envelope);
        return true;
      },
    },
    clock: { now: () => at },
    ...overrides,
  };
  return { pushed, recorded, service: new TypingService(ports, { intervalMs: 1000, concurrency: 4 }) };
};

describe('targetsOf', () => {
  it('keeps other users’ connections and drops every connection of the sender', async () => {
    // Prepare
    const subscriptions = [
      { connectionId: 'a1', userId: 'alice' },
      { connectionId: 'b1', userId: 'bob' },
      { connectionId: 'a2', userId: 'alice' },
    ];

    // Act
    const targets = await targetsOf(subscriptions, 'alice', async () => undefined);

    // Assess
    expect(targets).toEqual(['b1']);
  });

  it('looks up the user of a subscription stored without one and skips unknown connections', async () => {
    // Prepare
    const subscriptions = [
      { connectionId: 'old-bob' },
      { connectionId: 'gone' },
      { connectionId: 'old-alice' },
    ];
    const users: Record<string, string> = { 'old-bob': 'bob', 'old-alice': 'alice' };

    // Act
    const targets = await targetsOf(subscriptions, 'alice', async (id) => users[id]);

    // Assess
    expect(targets).toEqual(['old-bob']);
  });
});

describe('TypingService.send', () => {
  it('pushes one typing envelope to the other users’ sockets only', async () => {
    // Prepare
    const { pushed, service } = setup();

    // Act
    const result = await service.send(alice, chatId, true);

    // Assess
    expect(result).toEqual({ isTyping: true, expiresInMs: 5000, delivered: 2 });
    expect(pushed.map((p) => p.connectionId).sort()).toEqual(['bob-1', 'legacy']);
    const envelope = pushed[0]?.envelope;
    expect(envelope).toMatchObject({
      type: 'typing',
      tenantId: 'acme',
      chatId,
      at: at.toISOString(),
      data: { userId: 'alice', isTyping: true, expiresInMs: 5000 },
    });
    expect(pushed[0]?.envelope.id).toBe(pushed[1]?.envelope.id);
  });

  it('records exactly the envelope it pushes as the chat’s typing state (what pollers return)', async () => {
    // Prepare
    const { pushed, recorded, service } = setup();

    // Act
    await service.send(alice, chatId, true);

    // Assess
    expect([...recorded.values()]).toEqual([pushed[0]?.envelope]);
    expect(JSON.stringify([...recorded.values()][0])).toBe(JSON.stringify(pushed[1]?.envelope));
  });

  it('refuses a second event of the same state within the interval with rate_limited and pushes nothing', async () => {
    // Prepare
    const { pushed, service } = setup();
    await service.send(alice, chatId, true);
    pushed.length = 0;

    // Act
    const second = service.send(alice, chatId, true);

    // Assess
    await expect(second).rejects.toBeInstanceOf(RateLimitedError);
    expect(pushed).toHaveLength(0);
  });

  it('lets "stopped typing" through right after "typing" (separate records per state)', async () => {
    // Prepare
    const { pushed, recorded, service } = setup();
    await service.send(alice, chatId, true);

    // Act
    const stopped = await service.send(alice, chatId, false);

    // Assess
    expect(stopped.isTyping).toBe(false);
    expect([...recorded.values()].map((e) => e.data.isTyping)).toEqual([true, false]);
    expect(pushed.at(-1)?.envelope.data).toMatchObject({ isTyping: false });
  });

  it('refuses a caller that may not send to the chat before writing the typing state', async () => {
    // Prepare
    let spent = 0;
    const { pushed, service } = setup({
      authorize: async () => {
        throw new ForbiddenError('you are not a participant of this chat');
      },
      state: {
        record: async () => {
          spent++;
          return true;
        },
      },
    });

    // Act
    const attempt = service.send(alice, chatId, true);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(ForbiddenError);
    expect(spent).toBe(0);
    expect(pushed).toHaveLength(0);
  });

  it('reports a failed push and still delivers to the other sockets', async () => {
    // Prepare
    const failures: string[] = [];
    const { service } = setup({
      push: async (connectionId) => {
        if (connectionId === 'bob-1') throw new Error('throttled');
        return 'delivered';
      },
      onPushError: (connectionId) => failures.push(connectionId),
    });

    // Act
    const result = await service.send(alice, chatId, true);

    // Assess
    expect(result.delivered).toBe(1);
    expect(failures).toEqual(['bob-1']);
  });
});
