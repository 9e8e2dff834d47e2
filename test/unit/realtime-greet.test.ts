/** connection.ready: a 410 while the socket's $connect completes is retried, and never removes the connection. */
import { describe, expect, it } from 'vitest';
import { RealtimeService } from '../../shared/domain/realtime.ts';
import type { ChatStore, ConnectionStore, Pusher, PushResult } from '../../shared/domain/ports.ts';
import type { Envelope } from '../../shared/domain/schemas.ts';

const ready: Envelope = {
  type: 'connection.ready',
  id: 'c1:ready',
  tenantId: 'acme',
  at: '2026-12-01T10:00:00.000Z',
  data: { connectionId: 'c1', userId: 'bob', role: 'visitor' },
};

const service = (answers: PushResult[]) => {
  const forgotten: string[] = [];
  const posts: string[] = [];
  const pusher: Pusher = {
    post: async (connectionId) => {
      posts.push(connectionId);
      return answers.shift() ?? 'gone';
    },
    disconnect: async () => 'closed',
  };
  const realtime = new RealtimeService(
    {} as ConnectionStore,
    { forget: async (connectionId) => void forgotten.push(connectionId) },
    {} as ChatStore,
    pusher,
    { fanoutConcurrency: 4 },
  );
  return { realtime, forgotten, posts };
};

describe('RealtimeService.greet', () => {
  it('retries a 410 answered while the connection is still opening, then delivers', async () => {
    // Prepare
    const { realtime, forgotten, posts } = service(['gone', 'gone', 'delivered']);
    const slept: number[] = [];

    // Act
    const result = await realtime.greet('c1', ready, [50, 100, 200], async (ms) => void slept.push(ms));

    // Assess
    expect(result).toBe('delivered');
    expect(posts).toHaveLength(3);
    expect(slept).toEqual([50, 100]);
    expect(forgotten).toEqual([]);
  });

  it('gives up after its retries without removing the connection ($disconnect does that)', async () => {
    const { realtime, forgotten, posts } = service([]);

    const result = await realtime.greet('c1', ready, [1, 1], async () => {});

    expect(result).toBe('gone');
    expect(posts).toHaveLength(3);
    expect(forgotten).toEqual([]);
  });
  it('stops retrying a 410 once the connection item is gone (its $disconnect ran): gone, not opening', async () => {
    // Prepare
    const posts: string[] = [];
    const forgotten: string[] = [];
    const realtime = new RealtimeService(
      { get: async () => undefined } as unknown as ConnectionStore,
      { forget: async (connectionId) => void forgotten.push(connectionId) },
      {} as ChatStore,
      {
        post: async (connectionId) => {
          posts.push(connectionId);
          return 'gone';
        },
        disconnect: async () => 'closed',
      },
      { fanoutConcurrency: 4 },
    );
    const slept: number[] = [];

    // Act
    const result = await realtime.greet('c1', ready, [50, 100, 200], async (ms) => void slept.push(ms));

    // Assess
    expect(result).toBe('gone');
    expect(posts).toEqual(['c1']);
    expect(slept).toEqual([]);
    expect(forgotten).toEqual([]);
  });
});
