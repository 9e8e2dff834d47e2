/**
 * The presence transitions in a batch of table stream records: a presence item whose stored transition
 * is new (a user's first socket opened or last one closed). Writes that only move the count (a second
 * tab) carry the old transition and yield nothing, so each transition is announced once per delivery.
 *
 * A batch is reduced to each user's net change: transitions alternate (online, offline, online…), so an
 * even number of them in one batch leaves the user as they were and announces nothing, and an odd number
 * announces the last one. A reconnect storm (every socket dropped and reopened while the consumer is
 * busy) then costs no presence pushes for users who came back within the batch, instead of two pushes to
 * every subscriber of each of their chats.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { ENTITY } from '../../config/table.ts';
import type { PresenceTransition } from '../../domain/ports.ts';
import { keys } from './keys.ts';
import { toTransition } from './presence-store.ts';

export interface PresenceChange {
  readonly record: DynamoDBRecord;
  readonly tenantId: string;
  readonly transition: PresenceTransition;
}

const imageOf = (image: Record<string, unknown> | undefined): Record<string, unknown> | undefined =>
  image ? unmarshall(image as Record<string, AttributeValue>) : undefined;

const transitions = (records: readonly DynamoDBRecord[]): PresenceChange[] =>
  records.flatMap((record) => {
    const item = imageOf(record.dynamodb?.NewImage);
    if (item?.entity !== ENTITY.presence) return [];
    const tenantId = keys.presenceTenant(String(item.pk));
    const transition = toTransition(item.transition);
    const before = toTransition(imageOf(record.dynamodb?.OldImage)?.transition);
    if (!tenantId || !transition || before?.id === transition.id) return [];
    return [{ record, tenantId, transition }];
  });

export const presenceChanges = (records: readonly DynamoDBRecord[]): PresenceChange[] => {
  // Per user, the batch's first and last transition; before the first, the user was in the opposite state.
  const byUser = new Map<string, { first: PresenceChange; last: PresenceChange }>();
  for (const change of transitions(records)) {
    const user = `${change.tenantId}\n${change.transition.userId}`;
    const seen = byUser.get(user);
    byUser.set(user, { first: seen?.first ?? change, last: change });
  }
  return [...byUser.values()].flatMap(({ first, last }) =>
    last.transition.online === first.transition.online ? [last] : [],
  );
};
