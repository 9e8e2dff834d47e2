/**
 * Deliver or disconnect: a push that keeps failing (429, 5xx, time-out) is retried, then its connection
 * is closed so the client reconnects and catches up; only a failed close fails the record.
 */
import { describe, expect, it } from 'vitest';
import { RealtimeService } from '../../shared/domain/realtime.ts';
import type { ChatStore, ConnectionStore, Pusher } from '../../shared/domain/ports.ts';
import type { Envelope } from '../../shared/domain/schemas.ts';

const message: Envelope = {
  type: 'message.created',
  id: 'm_1',
  tenantId: 'acme',
  chatId: 'ch_aaaaaaaaaaaaaaaaaaaa',
  at: '2026-12-01T10:00:00.000Z',
  data: {},
} as unknown as Envelope;

type Answer = 'delivered' | 'gone' | Error;

const service = (
  posts: Answer[],
  close: 'closed' | 'gone' | Error = 'closed',
  clock: () => number = () => 0,
) => {
  const calls: string[] = [];
  const forgotten: string[] = [];
  const slept: number[] = [];
  const pusher: Pusher = {
    post: async (connectionId) => {
      calls.push(`post ${connectionId}`);
      const answer = posts.shift() ?? new Error('no answer left');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    disconnect: async (connectionId) => {
      calls.push(`close ${connectionId}`);
      if (close instanceof Error) throw close;
      return close;
    },
  };
  const realtime = new RealtimeService(
    {
      subscriberUsers: async () => [{ connectionId: 'c1' }, { connectionId: 'c2' }],
      watchers: async () => [],
    } as unknown as ConnectionStore,
    { forget: async (connectionId) => void forgotten.push(connectionId) },
    {} as ChatStore,
    pusher,
    {
      fanoutConcurrency: 1,
      pushRetryDelaysMs: [100, 300],
      sleep: async (ms) => void slept.push(ms),
      clock,
    },
  );
  return { realtime, calls, forgotten, slept };
};

const throttled = () => Object.assign(new Error('slow down'), { name: 'LimitExceededException' });

describe('RealtimeService.deliver', () => {
  it('retries a push answered 429 or 500 and delivers it without closing the connection', async () => {
    // Prepare
    const { realtime, calls, slept } = service([throttled(), new Error('internal'), 'delivered']);

    // Act
    const outcome = await realtime.deliver('c1', message);

    // Assess
    expect(outcome).toBe('delivered');
    expect(calls).toEqual(['post c1', 'post c1', 'post c1']);
    expect(slept).toEqual([100, 300]);
  });

  it('closes the connection when every try failed, so its client reconnects and catches up', async () => {
    // Prepare
    const { realtime, calls, forgotten } = service([throttled(), throttled(), throttled()]);

    // Act
    const outcome = await realtime.deliver('c1', message);

    // Assess: $disconnect removes it, not the push
    expect(outcome).toBe('disconnected');
    expect(calls).toEqual(['post c1', 'post c1', 'post c1', 'close c1']);
    expect(forgotten).toEqual([]);
  });

  it('closes at once, without retrying, a connection whose post hung until its time-out', async () => {
    // Prepare: the first post takes 3 s (the adapter's time-out) before it fails
    const times = [0, 3_000];
    const { realtime, calls, slept } = service([new Error('timed out'), 'delivered'], 'closed', () =>
      times.length > 1 ? (times.shift() as number) : (times[0] as number),
    );

    // Act
    const outcome = await realtime.deliver('c1', message);

    // Assess
    expect(outcome).toBe('disconnected');
    expect(calls).toEqual(['post c1', 'close c1']);
    expect(slept).toEqual([]);
  });

  it('removes a connection that was gone by the time it was closed', async () => {
    const { realtime, forgotten } = service([throttled(), throttled(), throttled()], 'gone');

    await expect(realtime.deliver('c1', message)).resolves.toBe('disconnected');

    expect(forgotten).toEqual(['c1']);
  });

  it('fails (so the stream retries the record) only when the close fails too', async () => {
    const { realtime } = service([throttled(), throttled(), throttled()], new Error('unreachable'));

    await expect(realtime.deliver('c1', message)).rejects.toThrow('unreachable');
  });

  it('neither retries nor closes a gone (410) connection: it is removed', async () => {
    const { realtime, calls, forgotten } = service(['gone']);

    await expect(realtime.deliver('c1', message)).resolves.toBe('gone');

    expect(calls).toEqual(['post c1']);
    expect(forgotten).toEqual(['c1']);
  });

  it('fans out past a closed connection: the others get the envelope and it counts as gone', async () => {
    // Prepare: c1 fails three times, c2 delivers
    const { realtime } = service([throttled(), throttled(), throttled(), 'delivered']);

    // Act
    const result = await realtime.fanout('ch_aaaaaaaaaaaaaaaaaaaa', message);

    // Assess
    expect(result).toEqual({ delivered: 1, gone: 1, goneIds: ['c1'] });
  });
});
