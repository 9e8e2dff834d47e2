/**
 * The presence transitions in a batch of table stream records: a presence item whose stored transition
 * is new (a user's first socket opened or last one closed). Writes that only move the count (a second
 * tab) carry the old transition and yield nothing, so each transition is announced once per delivery.
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

export const presenceChanges = (records: readonly DynamoDBRecord[]): PresenceChange[] =>
  records.flatMap((record) => {
    const item = imageOf(record.dynamodb?.NewImage);
    if (item?.entity !== ENTITY.presence) return [];
    const tenantId = keys.presenceTenant(String(item.pk));
    const transition = toTransition(item.transition);
    const before = toTransition(imageOf(record.dynamodb?.OldImage)?.transition);
    if (!tenantId || !transition || before?.id === transition.id) return [];
    return [{ record, tenantId, transition }];
  });
