/**
 * Who of a chat's subscribers may still receive it (shared/domain/delivery-scope.ts): staff always, a
 * visitor or user only while a participant, and the participants read at most once, only when needed —
 * not at all while the record's membersVersion matches every visitor's and user's subscription.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { ChatAudience, entitledSubscribers, type Subscriber } from '../../shared/domain/delivery-scope.ts';

const users = ['ann', 'bob', 'cy', 'dee'] as const;
const subscriber = fc.record(
  {
    connectionId: fc.string({ minLength: 1, maxLength: 8 }),
    userId: fc.constantFrom(...users),
    role: fc.constantFrom('visitor', 'user', 'agent', 'service') as fc.Arbitrary<Subscriber['role']>,
    membersVersion: fc.integer({ min: 0, max: 2 }),
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

describe('entitledSubscribers with a record’s membersVersion', () => {
  const customer = (s: Subscriber) => s.userId !== undefined && (s.role === 'visitor' || s.role === 'user');

  test.prop([
    fc.array(subscriber, { maxLength: 12 }),
    fc.subarray([...users]),
    fc.integer({ min: 0, max: 2 }),
  ])(
    'trusts a customer whose subscription has the record’s version and checks every other one',
    async (subscribers, participants, version) => {
      // Prepare
      let reads = 0;
      const read = async () => {
        reads += 1;
        return participants;
      };

      // Act
      const kept = await entitledSubscribers(subscribers, read, version);

      // Assess
      const vouched = (s: Subscriber) => s.membersVersion === version;
      expect(kept).toEqual(
        subscribers.filter(
          (s) => !customer(s) || vouched(s) || participants.includes(s.userId as (typeof users)[number]),
        ),
      );
      expect(reads).toBe(subscribers.some((s) => customer(s) && !vouched(s)) ? 1 : 0);
    },
  );

  it('reads the participants for a subscription authorized before a removal, and drops the removed', async () => {
    // Prepare: bob subscribed at version 0 and was removed (version 1); ann subscribed after it
    const subscribers: Subscriber[] = [
      { connectionId: 'c-ann', userId: 'ann', role: 'user', membersVersion: 1 },
      { connectionId: 'c-bob', userId: 'bob', role: 'user', membersVersion: 0 },
    ];
    let reads = 0;

    // Act
    const kept = await entitledSubscribers(
      subscribers,
      async () => {
        reads += 1;
        return ['ann'];
      },
      1,
    );

    // Assess
    expect(kept.map((s) => s.connectionId)).toEqual(['c-ann']);
    expect(reads).toBe(1);
  });
});

describe('ChatAudience', () => {
  it('reads the subscriptions once and the participants at most once for a batch, and leaves gone sockets out', async () => {
    // Prepare
    const reads = { subscriptions: 0, participants: 0 };
    const audience = new ChatAudience({
      subscriptions: async () => {
        reads.subscriptions += 1;
        return [
          { connectionId: 'c-ann', userId: 'ann', role: 'user', membersVersion: 0 },
          { connectionId: 'c-bob', userId: 'bob', role: 'user', membersVersion: 0 },
          { connectionId: 'c-zoe', userId: 'zoe', role: 'agent' },
        ];
      },
      participantIds: async () => {
        reads.participants += 1;
        return ['ann'];
      },
    });

    // Act: two messages of version 0, one gone socket, a chat event (no version), a message of version 1
    const first = await audience.connectionIds(0);
    const second = await audience.connectionIds(0);
    audience.drop(['c-zoe']);
    const event = await audience.connectionIds();
    const later = await audience.connectionIds(1);

    // Assess
    expect(first).toEqual(['c-ann', 'c-bob', 'c-zoe']);
    expect(second).toEqual(first);
    expect(event).toEqual(['c-ann']);
    expect(later).toEqual(['c-ann']);
    expect(reads).toEqual({ subscriptions: 1, participants: 1 });
  });
});
