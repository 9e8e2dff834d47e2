/** Block rules (who may block, self-blocks) and the send check, over an in-memory store. */
import { describe, expect, it } from 'vitest';
import { BlockService } from '../../shared/domain/blocks.ts';
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
    remove: async (tenantId, blocker, blocked) => {
      blocks.delete(key(tenantId, blocker, blocked));
    },
    list: async () => ({ items: [] }),
    blockersOf: async (tenantId, userId) => {
      reads++;
      return [...blocks.keys()]
        .map((k) => k.split('/'))
        .filter(([t, , blocked]) => t === tenantId && blocked === userId)
        .map(([, blocker]) => blocker ?? '');
    },
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
