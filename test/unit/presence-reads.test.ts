/**
 * The reads a stream batch's presence announcements share: each chat's subscribers and each tenant's
 * watchers are read once per batch, however many announcements need them.
 */
import { describe, expect, it } from 'vitest';
import { presenceReads } from '../../shared/domain/presence-reads.ts';

const counting = () => {
  const calls: string[] = [];
  const reads = presenceReads(
    async (chatId) => {
      calls.push(`subscribers ${chatId}`);
      return [`${chatId}-a`, `${chatId}-b`];
    },
    async (tenantId) => {
      calls.push(`watchers ${tenantId}`);
      return [{ connectionId: `${tenantId}-w`, filter: {} }];
    },
  );
  return { calls, reads };
};

describe('presence reads of one batch', () => {
  it("reads each chat's subscribers and each tenant's watchers once, however many announcements ask at once or later", async () => {
    // Prepare
    const { calls, reads } = counting();

    // Act: three users' announcements, two of them sharing chat c1, all of tenant t1.
    const [first, second] = await Promise.all([reads.subscribers('c1'), reads.subscribers('c1')]);
    const other = await reads.subscribers('c2');
    const again = await reads.subscribers('c1');
    await Promise.all([reads.watchers('t1'), reads.watchers('t1'), reads.watchers('t2')]);

    // Assess
    expect(calls).toEqual(['subscribers c1', 'subscribers c2', 'watchers t1', 'watchers t2']);
    expect(first).toEqual(['c1-a', 'c1-b']);
    expect(second).toEqual(first);
    expect(again).toEqual(first);
    expect(other).toEqual(['c2-a', 'c2-b']);
  });

  it("leaves connections found gone out of the chat's later announcements, without reading again", async () => {
    // Prepare
    const { calls, reads } = counting();
    await reads.subscribers('c1');

    // Act
    reads.forget('c1', ['c1-a']);
    reads.forget('c9', ['x']);
    const after = await reads.subscribers('c1');

    // Assess
    expect(after).toEqual(['c1-b']);
    expect(calls).toEqual(['subscribers c1']);
  });

  it('gives no watchers when they cannot be read, and reads them again in the next batch', async () => {
    // Prepare
    let attempts = 0;
    const make = () =>
      presenceReads(
        async () => [],
        async () => {
          attempts += 1;
          if (attempts === 1) throw new Error('throttled');
          return [{ connectionId: 'w', filter: {} }];
        },
      );

    // Act
    const failed = await make().watchers('t1');
    const next = await make().watchers('t1');

    // Assess
    expect(failed).toEqual([]);
    expect(next).toEqual([{ connectionId: 'w', filter: {} }]);
  });
});
