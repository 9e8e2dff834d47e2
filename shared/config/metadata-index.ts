/**
 * Which chat metadata keys are indexed: deploy-time configuration. The functions read it from
 * `INDEXED_METADATA_KEYS` (shared/config/env.ts); the CDK stack (context `indexedMetadataKeys`) and the
 * local cloud derive both the table's GSIs and that variable from the same list, so they cannot drift.
 * Each configured key takes one slot, in order: slot N owns the GSIs `byMetaN` (equality, newest
 * activity first) and `byMetaRangeN` (value order: numeric ranges, text prefixes). Changing the keys of
 * a deployed table needs a backfill (`npm run backfill-metadata`; docs/data-model.md, "Metadata filters").
 */
import * as z from '../zod.ts';
import { isMetadataKeyPath, METADATA_KEY_RULE } from '../domain/chat-filter.ts';

export const DEFAULT_INDEXED_METADATA_KEYS: readonly string[] = ['project_id', 'department', 'priority'];

/** At most this many keys: 2 GSIs each, next to the table's other GSIs (DynamoDB allows 20). */
export const MAX_INDEXED_METADATA_KEYS = 8;

/** A list of indexed keys: 1 to MAX_INDEXED_METADATA_KEYS distinct metadata key paths, in slot order. */
export const indexedMetadataKeyList = z.array(z.string()).check(
  z.superRefine((keys: string[], ctx) => {
    if (keys.length === 0 || keys.length > MAX_INDEXED_METADATA_KEYS)
      ctx.addIssue({
        code: 'custom',
        message: `must list 1 to ${MAX_INDEXED_METADATA_KEYS} keys (each takes two GSIs), got ${keys.length}`,
      });
    const seen = new Set<string>();
    for (const key of keys) {
      if (!isMetadataKeyPath(key))
        ctx.addIssue({ code: 'custom', message: `"${key}" is not a metadata key (${METADATA_KEY_RULE})` });
      else if (seen.has(key)) ctx.addIssue({ code: 'custom', message: `"${key}" is listed twice` });
      seen.add(key);
    }
  }),
);

/**
 * The indexed keys as configured: comma-separated text (environment, `-c key=a,b`, `--keys`) or a list
 * (cdk.json). Entries are trimmed; an empty entry is an error, not skipped.
 */
export const indexedMetadataKeysSchema = z.pipe(
  z.pipe(
    z.union([z.string(), z.array(z.string())], { error: 'must be comma-separated text or a list of keys' }),
    z.transform((value: string | string[]) =>
      (typeof value === 'string' ? value.split(',') : value).map((key) => key.trim()),
    ),
  ),
  indexedMetadataKeyList,
);

/** Parses and validates a configured key list; throws an Error naming `source` and every problem. */
export const parseIndexedMetadataKeys = (value: unknown, source: string): string[] => {
  const parsed = indexedMetadataKeysSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new Error(`${source}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
};

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

export const metadataSlots = (keys: readonly string[] = DEFAULT_INDEXED_METADATA_KEYS): MetadataSlot[] => {
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
