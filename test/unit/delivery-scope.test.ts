/**
 * Who of a chat's subscribers may still receive it (shared/domain/delivery-scope.ts): staff always, a
 * visitor or user only while a participant, and the participants read at most once, only when needed.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { entitledSubscribers, type Subscriber } from '../../shared/domain/delivery-scope.ts';

const users = ['ann', 'bob', 'cy', 'dee'] as const;
const subscriber = fc.record(
  {
    connectionId: fc.string({ minLength: 1, maxLength: 8 }),
    userId: fc.constantFrom(...users),
    role: fc.constantFrom('visitor', 'user', 'agent', 'service') as fc.Arbitrary<Subscriber['role']>,
  },
  { requiredKeys: ['connectionId'] },
);

describe('entitledSubscribers', () => {
  test.prop([fc.array(subscriber, { maxLength: 12 }), fc.subarray([...users])])(
    'keeps staff and legacy subscriptions, and customers only while they are participants',
    async (subscribers, participants) => {
      // Prepare
      let reads = 0;
      const read = async () => {
        reads += 1;
        return participants;
      };

      // Act
      const kept = await entitledSubscribers(subscribers, read);

      // Assess
      const customer = (s: Subscriber) =>
        s.userId !== undefined && (s.role === 'visitor' || s.role === 'user');
      expect(kept).toEqual(
        subscribers.filter((s) => !customer(s) || participants.includes(s.userId as (typeof users)[number])),
      );
      expect(reads).toBe(subscribers.some(customer) ? 1 : 0);
    },
  );

  it('drops the leftover subscription of a user removed from the chat', async () => {
    // Prepare
    const subscribers: Subscriber[] = [
      { connectionId: 'c-ann', userId: 'ann', role: 'user' },
      { connectionId: 'c-bob', userId: 'bob', role: 'user' },
      { connectionId: 'c-agent', userId: 'zoe', role: 'agent' },
    ];

    // Act
    const kept = await entitledSubscribers(subscribers, async () => ['ann']);

    // Assess
    expect(kept.map((s) => s.connectionId)).toEqual(['c-ann', 'c-agent']);
  });
});
