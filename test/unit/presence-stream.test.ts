/** Which presence-item stream records announce a transition (functions/stream/connections.ts). */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { keys } from '../../shared/adapters/dynamo/keys.ts';
import { presenceChanges } from '../../shared/adapters/dynamo/presence-stream.ts';
import type { PresenceTransition } from '../../shared/domain/ports.ts';

const online: PresenceTransition = {
  userId: 'bob',
  role: 'visitor',
  online: true,
  at: '2026-12-01T10:00:00.000Z',
  id: 'p_aaaaaaaaaaaa',
};
const offline: PresenceTransition = { ...online, online: false, id: 'p_bbbbbbbbbbbb' };

const item = (connections: number, transition?: PresenceTransition) => ({
  ...keys.presence('acme', 'bob'),
  entity: 'presence',
  connections,
  ...(transition ? { transition } : {}),
});

const record = (
  eventName: 'INSERT' | 'MODIFY',
  next: Record<string, unknown>,
  old?: Record<string, unknown>,
): DynamoDBRecord =>
  ({
    eventName,
    dynamodb: {
      SequenceNumber: '1',
      NewImage: marshall(next, { removeUndefinedValues: true }),
      ...(old ? { OldImage: marshall(old, { removeUndefinedValues: true }) } : {}),
    },
  }) as DynamoDBRecord;

describe('presenceChanges', () => {
  it('announces a first socket and, in a later batch, a last close, with the tenant from the key', () => {
    // Act
    const opened = presenceChanges([record('INSERT', item(1, online))]);
    const closed = presenceChanges([record('MODIFY', item(0, offline), item(1, online))]);

    // Assess
    expect(opened.map((change) => [change.tenantId, change.transition])).toEqual([['acme', online]]);
    expect(closed.map((change) => [change.tenantId, change.transition])).toEqual([['acme', offline]]);
  });

  it('announces nothing for a user who went offline and came back within one batch', () => {
    // Prepare
    const back: PresenceTransition = { ...online, id: 'p_cccccccccccc' };

    // Act
    const changes = presenceChanges([
      record('MODIFY', item(0, offline), item(1, online)),
      record('MODIFY', item(1, back), item(0, offline)),
    ]);

    // Assess
    expect(changes).toEqual([]);
  });

  it('announces only the last of an odd number of transitions of a user in one batch', () => {
    // Prepare
    const back: PresenceTransition = { ...online, id: 'p_cccccccccccc' };
    const gone: PresenceTransition = { ...offline, id: 'p_dddddddddddd' };
    const records = [
      record('MODIFY', item(0, offline), item(1, online)),
      record('MODIFY', item(1, back), item(0, offline)),
      record('MODIFY', item(0, gone), item(1, back)),
    ];

    // Act
    const changes = presenceChanges(records);

    // Assess: the record reported on failure is the last one's
    expect(changes.map((change) => change.transition)).toEqual([gone]);
    expect(changes[0]?.record).toBe(records[2]);
  });

  it('nets each user separately', () => {
    // Prepare
    const carol = (transition: PresenceTransition) => ({
      ...keys.presence('acme', 'carol'),
      entity: 'presence',
      connections: transition.online ? 1 : 0,
      transition: { ...transition, userId: 'carol' },
    });
    const back: PresenceTransition = { ...online, id: 'p_cccccccccccc' };

    // Act
    const changes = presenceChanges([
      record('MODIFY', item(0, offline), item(1, online)),
      record('INSERT', carol(online)),
      record('MODIFY', item(1, back), item(0, offline)),
    ]);

    // Assess: bob flapped (nothing), carol came online
    expect(changes.map((change) => change.transition.userId)).toEqual(['carol']);
  });

  it('announces nothing for a write that only moves the count (another tab)', () => {
    const changes = presenceChanges([record('MODIFY', item(2, online), item(1, online))]);

    expect(changes).toEqual([]);
  });

  it('ignores records of other items', () => {
    const changes = presenceChanges([
      record('INSERT', { ...keys.connection('c1'), entity: 'connection', transition: online }),
    ]);

    expect(changes).toEqual([]);
  });
});
