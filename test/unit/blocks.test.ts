/** Block rules (who may block, self-blocks) and the send check, over an in-memory store. */
import { describe, expect, it } from 'vitest';
import { AUDIT_SHARED_MAX, BlockService } from '../../shared/domain/blocks.ts';
import { ForbiddenError, ValidationError } from '../../shared/domain/errors.ts';
import type { Identity } from '../../shared/domain/identity.ts';
import type { BlockStore } from '../../shared/domain/ports.ts';

const user = (userId: string, role: Identity['role'] = 'user'): Identity => ({
  tenantId: 'acme',
  userId,
  role,
});

const memoryStore = () => {
  const blocks = new Map<string, string>();
  let reads = 0;
  const key = (tenantId: string, blocker: string, blocked: string) => `${tenantId}/${blocker}/${blocked}`;
  const store: BlockStore = {
    put: async (tenantId, blocker, blocked, at) => {
      const existing = blocks.get(key(tenantId, blocker, blocked));
      if (!existing) blocks.set(key(tenantId, blocker, blocked), at);
      return { block: { userId: blocked, blockedAt: existing ?? at }, created: !existing };
    },
    remove: async (tenantId, blocker, blocked) => blocks.delete(key(tenantId, blocker, blocked)),
    list: async () => ({ items: [] }),
    blockersOf: async (tenantId, userId) => {
      reads++;
      const blockers = [...blocks.keys()]
        .map((k) => k.split('/'))
        .filter(([t, , blocked]) => t === tenantId && blocked === userId)
        .map(([, blocker]) => blocker ?? '');
      return { blockers, overflow: false };
    },
    hasBlocked: async (tenantId, blockerIds, userId) =>
      blockerIds.some((blocker) => blocks.has(key(tenantId, blocker, userId))),
  };
  return { store, reads: () => reads };
};

const clock = { now: () => new Date('2026-11-21T10:00:00.000Z') };

describe('BlockService', () => {
  it('records a block once and keeps the first blockedAt on a repeat', async () => {
    // Prepare
    const { store } = memoryStore();
    const service = new BlockService(store, clock);

    // Act
    const first = await service.block(user('alice'), 'bob');
    const again = await service.block(user('alice'), 'bob');

    // Assess
    expect(first).toEqual({ block: { userId: 'bob', blockedAt: '2026-11-21T10:00:00.000Z' }, created: true });
    expect(again.created).toBe(false);
  });

  it('refuses a self-block with 400 and a service caller with 403', async () => {
    // Prepare
    const service = new BlockService(memoryStore().store, clock);

    // Act
    const self = service.block(user('alice'), 'alice');
    const byService = service.block(user('billing', 'service'), 'bob');

    // Assess
    await expect(self).rejects.toBeInstanceOf(ValidationError);
    await expect(byService).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('refuses a message from a user that another participant has blocked', async () => {
    // Prepare
    const service = new BlockService(memoryStore().store, clock);
    await service.block(user('alice'), 'bob');

    // Act
    const attempt = service.assertMayMessage(user('bob'), async () => ['alice', 'bob', 'carol']);

    // Assess
    await expect(attempt).rejects.toThrow(/blocked/);
  });

  it('lets a blocked user message chats where no blocker takes part', async () => {
    // Prepare
    const service = new BlockService(memoryStore().store, clock);
    await service.block(user('alice'), 'bob');
    let participantReads = 0;

    // Act
    const attempt = service.assertMayMessage(user('bob'), async () => {
      participantReads++;
      return ['bob', 'carol'];
    });

    // Assess
    await expect(attempt).resolves.toBeUndefined();
    expect(participantReads).toBe(1);
  });

  it('reads no participants when nobody has blocked the sender (the common path is one read)', async () => {
    // Prepare
    const { store, reads } = memoryStore();
    const service = new BlockService(store, clock);
    await service.block(user('alice'), 'carol');
    let participantReads = 0;

    // Act
    await service.assertMayMessage(user('bob'), async () => {
      participantReads++;
      return ['alice', 'bob'];
    });

    // Assess
    expect(participantReads).toBe(0);
    expect(reads()).toBe(1);
  });

  it('accepts the message again after unblocking, and blocks in other tenants do not count', async () => {
    // Prepare
    const service = new BlockService(memoryStore().store, clock);
    await service.block(user('alice'), 'bob');
    await service.block({ tenantId: 'other', userId: 'carol', role: 'user' }, 'bob');

    // Act
    await service.unblock(user('alice'), 'bob');
    await service.unblock(user('alice'), 'bob');
    const attempt = service.assertMayMessage(user('bob'), async () => ['alice', 'carol']);

    // Assess
    await expect(attempt).resolves.toBeUndefined();
  });

  it('never checks staff senders (no read at all)', async () => {
    // Prepare
    const { store, reads } = memoryStore();
    const service = new BlockService(store, clock);
    await service.block(user('alice'), 'agent-7');
    await service.block(user('alice'), 'billing');

    // Act
    await service.assertMayMessage(user('agent-7', 'agent'), async () => ['alice', 'agent-7']);
    await service.assertMayMessage(user('billing', 'service'), async () => ['alice', 'billing']);

    // Assess
    expect(reads()).toBe(0);
  });
});

describe('BlockService bounds', () => {
  const auditSpy = (shared: number) => {
    let inFlight = 0;
    let most = 0;
    const written: string[] = [];
    const audit = {
      sharedChats: async (_t: string, _a: string, _b: string, max: number) =>
        Array.from({ length: Math.min(shared, max) }, (_, i) => `ch_${i}`),
      recordAudit: async (record: { chatId: string; action: string }) => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        written.push(`${record.action}:${record.chatId}`);
        inFlight--;
      },
    };
    return { audit, written, most: () => most };
  };

  it('audits a block and its unblock in at most AUDIT_SHARED_MAX shared chats, a few writes at a time', async () => {
    // Prepare: the two users share 200 chats.
    const { audit, written, most } = auditSpy(200);
    const service = new BlockService(memoryStore().store, clock, audit as never);

    // Act
    await service.block(user('alice'), 'bob');
    await service.unblock(user('alice'), 'bob');

    // Assess
    expect(written.filter((w) => w.startsWith('user.block:'))).toHaveLength(AUDIT_SHARED_MAX);
    expect(written.filter((w) => w.startsWith('user.unblock:'))).toHaveLength(AUDIT_SHARED_MAX);
    expect(most()).toBeLessThanOrEqual(5);
  });

  it('writes no audit for an unblock without a block, however often it is repeated', async () => {
    // Prepare
    const { audit, written } = auditSpy(10);
    const service = new BlockService(memoryStore().store, clock, audit as never);

    // Act
    for (let i = 0; i < 5; i++) await service.unblock(user('alice'), 'bob');

    // Assess
    expect(written).toEqual([]);
  });

  it('hands its block-list limit to the store', async () => {
    // Prepare
    const { store } = memoryStore();
    const limits: (number | undefined)[] = [];
    const service = new BlockService(
      { ...store, put: (...args) => (limits.push(args[4]), store.put(...args)) },
      clock,
      undefined,
      7,
    );

    // Act
    await service.block(user('alice'), 'bob');

    // Assess
    expect(limits).toEqual([7]);
  });

  it('refuses a blocked sender whose blockers overflow the summary, by asking the participants’ blocks', async () => {
    // Prepare: the summary names no one but overflows; carol (a participant) has blocked mallory.
    const { store } = memoryStore();
    await store.put('acme', 'carol', 'mallory', 'x');
    const service = new BlockService(
      { ...store, blockersOf: async () => ({ blockers: [], overflow: true }) },
      clock,
    );

    // Act
    const refused = service.assertMayMessage(user('mallory'), async () => ['mallory', 'carol']);
    const allowed = service.assertMayMessage(user('mallory'), async () => ['mallory', 'dave']);

    // Assess
    await expect(refused).rejects.toBeInstanceOf(ForbiddenError);
    await expect(allowed).resolves.toBeUndefined();
  });
});
