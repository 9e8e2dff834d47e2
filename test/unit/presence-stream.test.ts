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
  it('announces a first socket and a last close, with the tenant from the key', () => {
    // Act
    const changes = presenceChanges([
      record('INSERT', item(1, online)),
      record('MODIFY', item(0, offline), item(1, online)),
    ]);

    // Assess
    expect(changes.map((change) => [change.tenantId, change.transition])).toEqual([
      ['acme', online],
      ['acme', offline],
    ]);
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
