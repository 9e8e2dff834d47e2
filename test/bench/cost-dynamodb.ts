/**
 * How AWS would bill one DynamoDB call the capacity meter (capacity.ts) saw: the `DynamoCall` of the cost
 * model (cost.ts), from the sizes of the items the call wrote or read wherever the bench can see them, and
 * from DynamoDB Local's reported units only where the size is known to the server alone.
 *
 * - `sizes`: computed from the item sizes (a Put's item; a read that returns whole items; the Puts of a
 *   transaction), by DynamoDB's size rule (`itemBytes` below);
 * - `local`: DynamoDB Local's figure turned back into the size class it implies (an update or delete, whose
 *   item only the server sees; a read with a projection or a filter, billed on the whole items; every
 *   index write). DynamoDB Local follows AWS's rules for single-item operations (docs/benchmarks.md);
 * - `assumed`: neither is available (an Update, Delete or ConditionCheck inside a transaction, a failed
 *   update or delete, a batch delete): one unit per item, a lower bound for items over 1 KB.
 *
 * DynamoDB Local's transaction figures are never used: it under-counts multi-item transactions.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { type DynamoCall, KB, READ_BLOCK, READ_FACTOR, type ReadConsistency } from './cost.ts';
import { isRecord } from './util.ts';

/**
 * An item's size by DynamoDB's rule: attribute names plus values; strings and binaries by their bytes,
 * numbers about 1 byte per two significant digits plus 1, booleans and nulls 1 byte, lists and maps 3 bytes
 * plus 1 per element. Capacity units are billed per 1 KB (writes) or 4 KB (reads) of it.
 */
export const itemBytes = (item: Record<string, AttributeValue>): number =>
  Object.entries(item).reduce((sum, [name, value]) => sum + Buffer.byteLength(name) + valueBytes(value), 0);

const numberBytes = (value: string): number => {
  const digits = value
    .replace(/^[-+]/, '')
    .replace(/[eE].*$/, '')
    .replace('.', '')
    .replace(/^0+/, '')
    .replace(/0+$/, '');
  return Math.ceil(Math.max(1, digits.length) / 2) + 1;
};

const valueBytes = (value: AttributeValue): number => {
  if (value.S !== undefined) return Buffer.byteLength(value.S);
  if (value.N !== undefined) return numberBytes(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, entry) => sum + Buffer.byteLength(entry), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, entry) => sum + numberBytes(entry), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, entry) => sum + entry.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((sum, entry) => sum + valueBytes(entry) + 1, 0);
  if (value.M !== undefined) {
    return (
      3 +
      Object.entries(value.M).reduce(
        (sum, [name, entry]) => sum + Buffer.byteLength(name) + valueBytes(entry) + 1,
        0,
      )
    );
  }
  return 0;
};

export type BillingBasis = 'sizes' | 'local' | 'assumed';
export type BilledCall = DynamoCall & { readonly basis: BillingBasis };

interface Units {
  CapacityUnits?: number;
}
interface Consumed extends Units {
  Table?: Units;
  GlobalSecondaryIndexes?: Record<string, Units>;
}

/** DynamoDB's size of an item, marshalled (low-level client) or native (document client). */
const sizeOf = (item: unknown, document: boolean): number | undefined => {
  if (!isRecord(item)) return undefined;
  try {
    const marshalled = document
      ? marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true })
      : (item as Record<string, AttributeValue>);
    return itemBytes(marshalled);
  } catch {
    return undefined;
  }
};

const indexUnits = (consumed: readonly Consumed[]): number[] =>
  consumed.flatMap((entry) =>
    Object.values(entry.GlobalSecondaryIndexes ?? {}).map((units) => units.CapacityUnits ?? 0),
  );
const totalUnits = (consumed: readonly Consumed[]): number =>
  consumed.reduce((sum, entry) => sum + (entry.CapacityUnits ?? 0), 0);
const tableUnits = (consumed: readonly Consumed[]): number =>
  consumed.reduce(
    (sum, entry) =>
      sum +
      (entry.Table?.CapacityUnits ??
        (entry.CapacityUnits ?? 0) -
          Object.values(entry.GlobalSecondaryIndexes ?? {}).reduce((s, u) => s + (u.CapacityUnits ?? 0), 0)),
    0,
  );

/** Index entries as DynamoDB Local counted them: one entry of at most 1 KB per unit. */
const localIndexEntries = (consumed: readonly Consumed[]): number[] =>
  indexUnits(consumed).flatMap((units) => Array.from({ length: Math.round(units) }, () => KB));

/**
 * A read billed by DynamoDB Local's figure: the started 4 KB blocks that figure implies, as one read (a
 * GetItem, a Query page) or as one item per block (a batch of `keys` keys: each key at least the minimum,
 * found or not, which DynamoDB Local does not count for a missing key).
 */
const localRead = (
  consistency: ReadConsistency,
  consumed: readonly Consumed[],
  batch = false,
  keys = 0,
): BilledCall => {
  const started = Math.round(totalUnits(consumed) / READ_FACTOR[consistency]);
  // One read of 0 bytes when DynamoDB Local reports nothing: AWS still bills the minimum.
  const sizes = batch
    ? Array.from({ length: Math.max(started, keys) }, (_, block) => (block < started ? READ_BLOCK : 0))
    : [started * READ_BLOCK];
  return { kind: 'read', consistency, itemBytes: sizes, basis: 'local' };
};

const projects = (input: Record<string, unknown>): boolean =>
  input.ProjectionExpression !== undefined ||
  input.AttributesToGet !== undefined ||
  input.FilterExpression !== undefined ||
  input.QueryFilter !== undefined ||
  input.ScanFilter !== undefined ||
  input.Select === 'COUNT' ||
  input.Select === 'SPECIFIC_ATTRIBUTES';

const actionOf = (request: unknown): { verb: string; body: Record<string, unknown> } | undefined => {
  if (!isRecord(request)) return undefined;
  for (const [verb, body] of Object.entries(request)) if (isRecord(body)) return { verb, body };
  return undefined;
};

export interface SeenCall {
  /** The operation, as capacity.ts names it (`GetItem`, `TransactWriteItems`, …). */
  readonly op: string;
  readonly input: Record<string, unknown>;
  /** The response, when the call succeeded. */
  readonly output?: unknown;
  readonly failed: boolean;
  readonly consumed: readonly Consumed[];
  /** Whether it went through the document client (native values) rather than the low-level one. */
  readonly document: boolean;
}

/** The call as AWS would bill it; undefined for operations the model does not know (PartiQL). */
export const billedCall = (call: SeenCall): BilledCall | undefined => {
  const { op, input, failed, consumed, document } = call;
  const output = isRecord(call.output) ? call.output : {};
  const size = (item: unknown) => sizeOf(item, document);
  switch (op) {
    case 'GetItem':
    case 'Query':
    case 'Scan': {
      const consistency: ReadConsistency = input.ConsistentRead === true ? 'strong' : 'eventual';
      if (failed) return { kind: 'read', consistency, itemBytes: [0], basis: 'assumed' };
      if (projects(input)) return localRead(consistency, consumed);
      const items = op === 'GetItem' ? (output.Item ? [output.Item] : []) : output.Items;
      const sizes = (Array.isArray(items) ? items : []).map(size);
      if (sizes.some((bytes) => bytes === undefined)) return localRead(consistency, consumed);
      const sum = sizes.reduce<number>((total, bytes) => total + (bytes ?? 0), 0);
      return { kind: 'read', consistency, itemBytes: [sum], basis: 'sizes' };
    }
    case 'BatchGetItem': {
      const requests = isRecord(input.RequestItems) ? Object.entries(input.RequestItems) : [];
      const strong = requests.some(([, request]) => isRecord(request) && request.ConsistentRead === true);
      const consistency: ReadConsistency = strong ? 'strong' : 'eventual';
      const projected = requests.some(([, request]) => isRecord(request) && projects(request));
      const keys = requests.reduce(
        (sum, [, request]) =>
          sum + (isRecord(request) && Array.isArray(request.Keys) ? request.Keys.length : 0),
        0,
      );
      if (failed) return localRead(consistency, consumed, true);
      if (projected) return localRead(consistency, consumed, true, keys);
      const responses = isRecord(output.Responses) ? output.Responses : {};
      const sizes: number[] = [];
      for (const [table, request] of requests) {
        const keys = isRecord(request) && Array.isArray(request.Keys) ? request.Keys.length : 0;
        const found = Array.isArray(responses[table]) ? (responses[table] as unknown[]) : [];
        for (const item of found) sizes.push(size(item) ?? READ_BLOCK);
        for (let missing = found.length; missing < keys; missing++) sizes.push(0);
      }
      return { kind: 'read', consistency, itemBytes: sizes, basis: 'sizes' };
    }
    case 'TransactGetItems': {
      const items = Array.isArray(output.Responses) ? output.Responses : [];
      const gets = Array.isArray(input.TransactItems) ? input.TransactItems : [];
      const projected = gets.some((get) => isRecord(get) && isRecord(get.Get) && projects(get.Get));
      if (failed || projected) {
        return { kind: 'read', consistency: 'transactional', itemBytes: gets.map(() => 0), basis: 'assumed' };
      }
      const sizes = gets.map((_get, index) => {
        const response: unknown = items[index];
        return isRecord(response) && response.Item ? (size(response.Item) ?? 0) : 0;
      });
      return { kind: 'read', consistency: 'transactional', itemBytes: sizes, basis: 'sizes' };
    }
    case 'PutItem': {
      const bytes = size(input.Item);
      if (bytes === undefined) {
        return {
          kind: 'write',
          transactional: false,
          itemBytes: [tableUnits(consumed) * KB],
          basis: 'local',
        };
      }
      // A Put replacing a larger item is billed by the larger: DynamoDB Local's figure says when.
      const local = failed ? 0 : tableUnits(consumed) * KB;
      return {
        kind: 'write',
        transactional: false,
        itemBytes: [Math.max(bytes, local)],
        ...(failed ? {} : { indexEntryBytes: localIndexEntries(consumed) }),
        basis: 'sizes',
      };
    }
    case 'UpdateItem':
    case 'DeleteItem':
      return failed
        ? { kind: 'write', transactional: false, itemBytes: [1], basis: 'assumed' }
        : {
            kind: 'write',
            transactional: false,
            itemBytes: [tableUnits(consumed) * KB],
            indexEntryBytes: localIndexEntries(consumed),
            basis: 'local',
          };
    case 'BatchWriteItem': {
      const requests = isRecord(input.RequestItems) ? Object.values(input.RequestItems) : [];
      const sizes = requests
        .flatMap((list) => (Array.isArray(list) ? list : []))
        .map((request) => {
          const action = actionOf(request);
          return action?.verb === 'PutRequest' ? (size(action.body.Item) ?? KB) : 1;
        });
      return {
        kind: 'write',
        transactional: false,
        itemBytes: sizes,
        ...(failed ? {} : { indexEntryBytes: localIndexEntries(consumed) }),
        basis: 'assumed',
      };
    }
    case 'TransactWriteItems': {
      const actions = (Array.isArray(input.TransactItems) ? input.TransactItems : []).map(actionOf);
      const sizes = actions.map((action) => (action?.verb === 'Put' ? (size(action.body.Item) ?? KB) : 1));
      const allPuts = actions.every((action) => action?.verb === 'Put');
      return {
        kind: 'write',
        transactional: true,
        itemBytes: sizes,
        ...(failed ? {} : { indexEntryBytes: localIndexEntries(consumed) }),
        basis: allPuts && !failed ? 'sizes' : 'assumed',
      };
    }
    default:
      return undefined;
  }
};
