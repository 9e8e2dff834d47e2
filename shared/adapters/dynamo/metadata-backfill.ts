/**
 * Metadata backfill (`npm run backfill-metadata`, docs/data-model.md "Metadata filters"): rewrites the
 * metadata GSI attributes of every chat item for a list of indexed keys, after the keys of a deployed
 * table changed. An operator tool, not a request path: a parallel Scan of the chat items (filtered on
 * `entity`), and one conditional UpdateItem per chat whose attributes differ from what
 * `metadataIndexAttributes` computes for the keys. Idempotent: a second run updates nothing.
 */
import { GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { MAX_INDEXED_METADATA_KEYS, type MetadataSlot, metadataSlots } from '../../config/metadata-index.ts';
import { ENTITY } from '../../config/table.ts';
import { backoffDelay, equalJitter } from '../../domain/backoff.ts';
import { activityPositions } from './chat-activity.ts';
import { errorName, isConditionFailed, type TableContext } from './client.ts';
import { metadataIndexAttributes, slotAttributes } from './metadata-index.ts';

/** The attributes of every possible slot (1..MAX): the ones of slots beyond the key count are removed. */
export const ALL_SLOT_ATTRIBUTES: readonly string[] = slotAttributes(
  metadataSlots(Array.from({ length: MAX_INDEXED_METADATA_KEYS }, (_, i) => `slot${i + 1}`)),
);

/** What a chat item's slot attributes are computed from, plus what the update is conditioned on. */
const READ_ATTRIBUTES = [
  'pk',
  'sk',
  'chatId',
  'tenantId',
  'metadata',
  'lastActivityAt',
  'lastEventSeq',
  ...ALL_SLOT_ATTRIBUTES,
];

export interface SlotUpdate {
  /** Slot attributes to write (missing or different). */
  readonly set: Readonly<Record<string, string>>;
  /**
   * Slot attributes the item has but should not: of a key no longer indexed (or moved to another slot),
   * of a slot beyond the key count, of a value that is no longer indexable (non-scalar, too long).
   */
  readonly remove: readonly string[];
}

/**
 * The change that brings a chat item's slot attributes in line with `slots`, or undefined for an item
 * that is not a well-formed chat (no chatId, tenantId or lastActivityAt). Pure.
 *
 * An equality sort key (`mdNsk`) whose slot keeps its partition is left alone while touchActivity would
 * leave it alone too: it may trail the exact lastActivityAt by up to ACTIVITY_RESOLUTION_MS
 * (`activityPositions`, the function touchActivity uses). A new or stale one is set to the activity
 * position of lastActivityAt, as touchActivity would.
 */
export const planSlotUpdate = (
  item: Readonly<Record<string, unknown>>,
  slots: readonly MetadataSlot[],
): SlotUpdate | undefined => {
  const { chatId, tenantId, lastActivityAt } = item;
  if (typeof chatId !== 'string' || typeof tenantId !== 'string' || typeof lastActivityAt !== 'string')
    return undefined;
  if (Number.isNaN(Date.parse(lastActivityAt))) return undefined;
  const wanted = metadataIndexAttributes(tenantId, chatId, item.metadata, lastActivityAt, slots);
  const { stale } = activityPositions(lastActivityAt, chatId);
  const partitionOfSort = new Map(slots.map((slot) => [slot.eqSk, slot.eqPk]));
  const set: Record<string, string> = {};
  for (const [name, value] of Object.entries(wanted)) {
    const current = item[name];
    if (current === value) continue;
    const partition = partitionOfSort.get(name);
    const stillCurrent =
      partition !== undefined &&
      item[partition] === wanted[partition] &&
      typeof current === 'string' &&
      current.endsWith(`#${chatId}`) &&
      current >= stale;
    if (!stillCurrent) set[name] = value;
  }
  const remove = ALL_SLOT_ATTRIBUTES.filter((name) => item[name] !== undefined && wanted[name] === undefined);
  return { set, remove };
};

export const isNoop = (update: SlotUpdate): boolean =>
  Object.keys(update.set).length === 0 && update.remove.length === 0;

/**
 * The UpdateItem of one planned change, conditioned on the item being what was read: same
 * lastActivityAt (the equality sort keys follow it), same lastEventSeq (every metadata change moves it,
 * shared/adapters/dynamo/chat-writes.ts `changeChat`) and every touched slot attribute as read (touchActivity
 * moves `mdNsk` without either).
 */
export const slotUpdateInput = (
  tableName: string,
  item: Readonly<Record<string, unknown>>,
  update: SlotUpdate,
): ConstructorParameters<typeof UpdateCommand>[0] => {
  const names: Record<string, string> = { '#lat': 'lastActivityAt', '#les': 'lastEventSeq' };
  const values: Record<string, unknown> = { ':lat': item.lastActivityAt };
  const conditions = ['attribute_exists(pk)', '#lat = :lat'];
  if (item.lastEventSeq === undefined) conditions.push('attribute_not_exists(#les)');
  else {
    values[':les'] = item.lastEventSeq;
    conditions.push('#les = :les');
  }
  const touched = [...Object.keys(update.set), ...update.remove];
  touched.forEach((name, i) => {
    names[`#a${i}`] = name;
    if (item[name] === undefined) conditions.push(`attribute_not_exists(#a${i})`);
    else {
      values[`:o${i}`] = item[name];
      conditions.push(`#a${i} = :o${i}`);
    }
  });
  const sets = Object.values(update.set).map((value, i) => {
    values[`:n${i}`] = value;
    return `#a${i} = :n${i}`;
  });
  const removes = update.remove.map((_, j) => `#a${sets.length + j}`);
  return {
    TableName: tableName,
    Key: { pk: item.pk, sk: item.sk },
    UpdateExpression: [
      ...(sets.length > 0 ? [`SET ${sets.join(', ')}`] : []),
      ...(removes.length > 0 ? [`REMOVE ${removes.join(', ')}`] : []),
    ].join(' '),
    ConditionExpression: conditions.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
};

export interface BackfillOptions {
  /** The indexed keys, in slot order, exactly as the functions' INDEXED_METADATA_KEYS. */
  readonly keys: readonly string[];
  /** Parallel Scan segments (default 4). */
  readonly segments?: number;
  /** Count what would change, write nothing. */
  readonly dryRun?: boolean;
  /** Items per Scan page (Limit; default: DynamoDB's 1 MB pages). */
  readonly pageSize?: number;
  /** Conditional-update attempts per chat before it counts as failed (default 10). */
  readonly maxItemAttempts?: number;
  /** Attempts of a throttled request (default 8), backing off exponentially with jitter. */
  readonly maxThrottleAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Notes about single items (skipped, failed). */
  readonly log?: (line: string) => void;
}

export interface BackfillCounts {
  /** Chat items read. */
  scanned: number;
  /** Chats whose slot attributes were rewritten (with dryRun: would have been). */
  updated: number;
  /** Chats already in line with the keys. */
  unchanged: number;
  /** Conditional updates that lost to a concurrent change and were retried after a consistent re-read. */
  retried: number;
  /** Items deleted meanwhile or not well-formed chats. */
  skipped: number;
  /** Chats still losing to concurrent changes after maxItemAttempts. */
  failed: number;
  /** Throttled requests that were retried after a backoff. */
  throttled: number;
}

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

export const backfillMetadata = async (
  table: TableContext,
  options: BackfillOptions,
): Promise<BackfillCounts> => {
  const slots = metadataSlots(options.keys);
  const segments = options.segments ?? 4;
  const maxItemAttempts = options.maxItemAttempts ?? 10;
  const maxThrottleAttempts = options.maxThrottleAttempts ?? 8;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const log = options.log ?? (() => {});
  const counts: BackfillCounts = {
    scanned: 0,
    updated: 0,
    unchanged: 0,
    retried: 0,
    skipped: 0,
    failed: 0,
    throttled: 0,
  };
  const projection = Object.fromEntries(READ_ATTRIBUTES.map((name, i) => [`#p${i}`, name]));

  const withBackoff = async <T>(send: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        if (!THROTTLING.has(errorName(error)) || attempt >= maxThrottleAttempts) throw error;
        counts.throttled++;
        await sleep(backoffDelay(attempt, 100, 20_000, equalJitter));
      }
    }
  };

  const reread = async (item: Record<string, unknown>) =>
    (
      await withBackoff(() =>
        table.doc.send(
          new GetCommand({
            TableName: table.tableName,
            Key: { pk: item.pk, sk: item.sk },
            ProjectionExpression: Object.keys(projection).join(', '),
            ExpressionAttributeNames: projection,
            ConsistentRead: true,
          }),
        ),
      )
    ).Item;

  const backfillItem = async (scanned: Record<string, unknown>): Promise<void> => {
    counts.scanned++;
    let item: Record<string, unknown> | undefined = scanned;
    for (let attempt = 1; attempt <= maxItemAttempts; attempt++) {
      if (!item) {
        counts.skipped++;
        return;
      }
      const update = planSlotUpdate(item, slots);
      if (!update) {
        counts.skipped++;
        log(`skipped ${String(item.pk)}: not a well-formed chat item`);
        return;
      }
      if (isNoop(update)) {
        counts.unchanged++;
        return;
      }
      if (options.dryRun) {
        counts.updated++;
        return;
      }
      const input = slotUpdateInput(table.tableName, item, update);
      try {
        await withBackoff(() => table.doc.send(new UpdateCommand(input)));
        counts.updated++;
        return;
      } catch (error) {
        if (!isConditionFailed(error)) throw error;
        // Changed since it was read (a send, a metadata change, touchActivity): plan again from a
        // consistent read.
        counts.retried++;
        item = await reread(item);
      }
    }
    counts.failed++;
    log(`failed ${String(scanned.pk)}: still changing after ${maxItemAttempts} attempts`);
  };

  const scanSegment = async (segment: number): Promise<void> => {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await withBackoff(() =>
        table.doc.send(
          new ScanCommand({
            TableName: table.tableName,
            Segment: segment,
            TotalSegments: segments,
            FilterExpression: '#entity = :chat',
            ProjectionExpression: Object.keys(projection).join(', '),
            ExpressionAttributeNames: { ...projection, '#entity': 'entity' },
            ExpressionAttributeValues: { ':chat': ENTITY.chat },
            ...(options.pageSize ? { Limit: options.pageSize } : {}),
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) await backfillItem(item);
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  };

  await Promise.all(Array.from({ length: segments }, (_, segment) => scanSegment(segment)));
  return counts;
};
