/**
 * Which index answers a filtered chat list (docs/data-model.md, "Metadata filters"): pure planning of
 * the one Query that drives listFiltered (chat-lists.ts), from the filter and the metadata index slots.
 */
import { type MetadataSlot, metadataSlots } from '../../config/metadata-index.ts';
import { indexByName } from '../../config/table.ts';
import { indexedConditions, type MetadataCondition, scalarKey } from '../../domain/chat-filter.ts';
import type { FilteredListRequest } from '../../domain/ports.ts';
import { keys } from './keys.ts';
import { metadataKeys } from './metadata-index.ts';

const byParticipant = indexByName('byParticipant');
const byTenant = indexByName('byTenant');

/** updatedAfter bounds the activity indexes' sort keys this far below the time (positions lag activity). */
const UPDATED_AFTER_MARGIN_MS = 60_000;

interface FilterPlan {
  readonly indexName: string;
  readonly pkAttr: string;
  readonly skAttr: string;
  readonly partition: string;
  /** Sort-key condition on `#sk`. */
  readonly sk?: { readonly expression: string; readonly values: Record<string, string> };
  readonly descending: boolean;
  /** The condition the index answers exactly. */
  readonly answers?: MetadataCondition;
  /** A user each chat must also have as participant (checked by BatchGet). */
  readonly member?: string;
}

const rangeCondition = (condition: MetadataCondition): FilterPlan['sk'] => {
  const { numberSort, NUMBER_PREFIX, HIGH } = metadataKeys;
  const between = (from: string, to: string) => ({
    expression: '#sk BETWEEN :from AND :to',
    values: { ':from': from, ':to': to },
  });
  switch (condition.op) {
    case 'gt':
      return between(numberSort(condition.value) + HIGH, NUMBER_PREFIX + HIGH);
    case 'gte':
      return between(numberSort(condition.value), NUMBER_PREFIX + HIGH);
    case 'lt':
      return between(NUMBER_PREFIX, numberSort(condition.value));
    case 'lte':
      return between(NUMBER_PREFIX, numberSort(condition.value) + HIGH);
    case 'between':
      return between(numberSort(condition.value[0]), numberSort(condition.value[1]) + HIGH);
    case 'begins_with':
      return {
        expression: 'begins_with(#sk, :prefix)',
        values: { ':prefix': metadataKeys.TEXT_PREFIX + condition.value },
      };
    default:
      return undefined;
  }
};

/**
 * Which index answers a filter: a participant's list (users always read their own; staff with
 * `participant`), else the equality index of an indexed `eq` (newest activity first), else the range
 * index of an indexed range or prefix condition (value order), else the tenant's list (standard fields).
 */
export const planFilter = (
  request: Pick<FilteredListRequest, 'tenantId' | 'member' | 'filter'>,
  slots: readonly MetadataSlot[] = metadataSlots(),
): FilterPlan => {
  const { tenantId, member, filter } = request;
  const activity = filter.updatedAfter
    ? {
        expression: '#sk >= :from',
        values: {
          ':from': new Date(Date.parse(filter.updatedAfter) - UPDATED_AFTER_MARGIN_MS).toISOString(),
        },
      }
    : undefined;
  const listOf = member ?? filter.participant;
  if (listOf)
    return {
      indexName: byParticipant.indexName,
      pkAttr: byParticipant.partitionKey,
      skAttr: byParticipant.sortKey,
      partition: keys.participantIndex(tenantId, listOf),
      ...(activity ? { sk: activity } : {}),
      descending: true,
      ...(filter.participant && filter.participant !== listOf ? { member: filter.participant } : {}),
    };
  const indexed = indexedConditions(
    filter,
    slots.map((slot) => slot.key),
  );
  const eq = indexed.find((condition) => condition.op === 'eq');
  const eqSlot = slots.find((slot) => slot.key === eq?.key);
  const eqValue = eq?.op === 'eq' ? scalarKey(eq.value) : undefined;
  if (eq && eqSlot && eqValue !== undefined)
    return {
      indexName: eqSlot.eqIndex,
      pkAttr: eqSlot.eqPk,
      skAttr: eqSlot.eqSk,
      partition: metadataKeys.eqPartition(tenantId, eqSlot.key, eqValue),
      ...(activity ? { sk: activity } : {}),
      descending: true,
      answers: eq,
    };
  const range = indexed.find((condition) => condition.op !== 'eq');
  const rangeSlot = slots.find((slot) => slot.key === range?.key);
  const sk = range ? rangeCondition(range) : undefined;
  if (range && rangeSlot && sk)
    return {
      indexName: rangeSlot.rangeIndex,
      pkAttr: rangeSlot.rangePk,
      skAttr: rangeSlot.rangeSk,
      partition: metadataKeys.rangePartition(tenantId, rangeSlot.key),
      sk,
      descending: false,
      answers: range,
    };
  return {
    indexName: byTenant.indexName,
    pkAttr: byTenant.partitionKey,
    skAttr: byTenant.sortKey,
    partition: keys.tenantIndex(tenantId),
    ...(activity ? { sk: activity } : {}),
    descending: true,
  };
};
