/**
 * Which chat metadata keys are indexed (deploy-time configuration shared by CDK and the local cloud).
 * Each configured key takes one slot, in order: slot N owns the GSIs `byMetaN` (equality, newest
 * activity first) and `byMetaRangeN` (value order: numeric ranges, text prefixes). Reordering the keys
 * of a deployed table re-assigns slots and needs a backfill (docs/data-model.md, "Metadata filters").
 */
export const DEFAULT_INDEXED_METADATA_KEYS = ['project_id', 'department', 'priority'] as const;

/** At most this many keys: 2 GSIs each, next to the table's other GSIs (DynamoDB allows 20). */
export const MAX_INDEXED_METADATA_KEYS = 8;

/** The keys the table is built with; the local cloud and the default CDK stack index exactly these. */
export const indexedMetadataKeys: readonly string[] = DEFAULT_INDEXED_METADATA_KEYS;

export interface MetadataSlot {
  readonly key: string;
  /** 1-based slot number. */
  readonly slot: number;
  readonly eqIndex: string;
  readonly eqPk: string;
  readonly eqSk: string;
  readonly rangeIndex: string;
  readonly rangePk: string;
  readonly rangeSk: string;
}

export const metadataSlots = (keys: readonly string[] = indexedMetadataKeys): MetadataSlot[] => {
  if (keys.length > MAX_INDEXED_METADATA_KEYS)
    throw new Error(`at most ${MAX_INDEXED_METADATA_KEYS} indexed metadata keys`);
  return keys.map((key, i) => ({
    key,
    slot: i + 1,
    eqIndex: `byMeta${i + 1}`,
    eqPk: `md${i + 1}pk`,
    eqSk: `md${i + 1}sk`,
    rangeIndex: `byMetaRange${i + 1}`,
    rangePk: `mr${i + 1}pk`,
    rangeSk: `mr${i + 1}sk`,
  }));
};
