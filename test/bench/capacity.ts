/**
 * Benchmark-only DynamoDB capacity meter. It patches `send` on the prototypes of `DynamoDBClient` and
 * `DynamoDBDocumentClient` in THIS process, so every call the real handlers make (they run in-process in the
 * local cloud) asks for `ReturnConsumedCapacity: 'INDEXES'` (the TOTAL figures plus each GSI's share) and
 * its consumed capacity is summed, grouped by operation and by which items it touched (derived from the key
 * prefixes of the single table). Each call's duration is kept too.
 *
 * Asking for the consumed capacity changes no behaviour of a call; only its response carries one more field.
 * Never import this outside test/bench.
 */
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type BilledCall, billedCall } from './cost-dynamodb.ts';
import { isRecord } from './util.ts';

/** Operations whose input accepts ReturnConsumedCapacity, by command class name (low-level and document). */
const OPERATIONS: Readonly<Record<string, { readonly op: string; readonly kind: 'read' | 'write' }>> = {
  GetItemCommand: { op: 'GetItem', kind: 'read' },
  GetCommand: { op: 'GetItem', kind: 'read' },
  QueryCommand: { op: 'Query', kind: 'read' },
  ScanCommand: { op: 'Scan', kind: 'read' },
  BatchGetItemCommand: { op: 'BatchGetItem', kind: 'read' },
  BatchGetCommand: { op: 'BatchGetItem', kind: 'read' },
  TransactGetItemsCommand: { op: 'TransactGetItems', kind: 'read' },
  TransactGetCommand: { op: 'TransactGetItems', kind: 'read' },
  PutItemCommand: { op: 'PutItem', kind: 'write' },
  PutCommand: { op: 'PutItem', kind: 'write' },
  UpdateItemCommand: { op: 'UpdateItem', kind: 'write' },
  UpdateCommand: { op: 'UpdateItem', kind: 'write' },
  DeleteItemCommand: { op: 'DeleteItem', kind: 'write' },
  DeleteCommand: { op: 'DeleteItem', kind: 'write' },
  BatchWriteItemCommand: { op: 'BatchWriteItem', kind: 'write' },
  BatchWriteCommand: { op: 'BatchWriteItem', kind: 'write' },
  TransactWriteItemsCommand: { op: 'TransactWriteItems', kind: 'write' },
  TransactWriteCommand: { op: 'TransactWriteItems', kind: 'write' },
  ExecuteStatementCommand: { op: 'ExecuteStatement', kind: 'read' },
  BatchExecuteStatementCommand: { op: 'BatchExecuteStatement', kind: 'read' },
  ExecuteTransactionCommand: { op: 'ExecuteTransaction', kind: 'write' },
};

export interface CapacityRow {
  /** DynamoDB API operation, e.g. `TransactWriteItems`. */
  readonly operation: string;
  /** What it touched, from the single-table key prefixes, e.g. `CHAT/SUB*` (a Query of a chat's SUB# items). */
  readonly target: string;
  calls: number;
  /** Calls that failed (e.g. ConditionalCheckFailedException); their capacity, if any, is not reported. */
  failed: number;
  readonly failures: Record<string, number>;
  /** Successful calls whose response carried no ConsumedCapacity. */
  unreported: number;
  readCapacityUnits: number;
  writeCapacityUnits: number;
  /** Of the above, consumed by global secondary indexes (the rest by the table). */
  indexReadCapacityUnits: number;
  indexWriteCapacityUnits: number;
  /** Wall-clock time of each call as the caller saw it (includes the SDK's own retries). */
  readonly durationsMs: number[];
  /** Each call (failed ones too) as AWS would bill it (cost-dynamodb.ts), in the order they ended. */
  readonly billed: BilledCall[];
  /** The ConsumedCapacity of the latest successful call, as returned. */
  sample?: unknown;
}

export type CapacityMark = ReadonlyMap<string, CapacityRow>;

export interface CapacityMeter {
  /** A copy of the running totals, to diff against later. */
  mark(): CapacityMark;
  /** What was consumed since `mark`, one row per operation and target, biggest first. */
  since(mark: CapacityMark): CapacityRow[];
  /** Puts the original `send` back. */
  uninstall(): void;
  /**
   * Calls `listener` with each call as billed, as it ends, in the caller's async context (so an
   * AsyncLocalStorage of the caller can attribute it, polling-scope.ts); returns the unsubscribe.
   */
  observe(listener: CallListener): () => void;
}

/** One metered call as billed, with the row it was counted in. */
export type CallListener = (
  call: BilledCall,
  row: { readonly operation: string; readonly target: string },
) => void;

type Send = (this: object, command: unknown, ...rest: unknown[]) => Promise<unknown>;
interface Patchable {
  send: Send;
}
interface Units {
  CapacityUnits?: number;
  ReadCapacityUnits?: number;
  WriteCapacityUnits?: number;
}
interface Consumed extends Units {
  GlobalSecondaryIndexes?: Record<string, Units>;
}

/** A plain string, or the S of a marshalled attribute value (low-level client). */
const stringOf = (value: unknown): string | undefined => {
  if (typeof value === 'string') return value;
  if (isRecord(value) && typeof value.S === 'string') return value.S;
  return undefined;
};

const prefixOf = (value: string): string => value.split('#')[0] ?? value;

/** `CHAT#c/CHAT` → `CHAT`, `CHAT#c/MSG#000…` → `CHAT/MSG`, `CONN#x/SUB#c` → `CONN/SUB`. */
const kindOfKey = (key: unknown): string => {
  if (!isRecord(key)) return '?';
  const pk = stringOf(key.pk);
  const sk = stringOf(key.sk);
  if (pk === undefined) return '?';
  const pkKind = prefixOf(pk);
  const skKind = sk === undefined ? '' : prefixOf(sk);
  return skKind === '' || skKind === pkKind ? pkKind : `${pkKind}/${skKind}`;
};

const unique = (values: string[]): string => {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].map(([value, count]) => (count > 1 ? `${count}×${value}` : value)).join(' + ');
};

const writeRequestKind = (request: unknown): string => {
  if (!isRecord(request)) return '?';
  for (const [verb, body] of Object.entries(request)) {
    if (!isRecord(body)) continue;
    const short = verb.replace(/Request$/, '');
    return `${short} ${kindOfKey(body.Key ?? body.Item)}`;
  }
  return '?';
};

/** A short description of the items a call touches. */
const targetOf = (op: string, input: Record<string, unknown>): string => {
  switch (op) {
    case 'GetItem':
    case 'DeleteItem':
    case 'UpdateItem':
      return kindOfKey(input.Key);
    case 'PutItem':
      return kindOfKey(input.Item);
    case 'Query':
    case 'Scan': {
      const values = isRecord(input.ExpressionAttributeValues) ? input.ExpressionAttributeValues : {};
      const strings = Object.values(values)
        .map(stringOf)
        .filter((value): value is string => value !== undefined && /^[A-Z]+#/.test(value));
      const [partition, ...ranges] = strings;
      const base =
        typeof input.IndexName === 'string' ? `index ${input.IndexName}` : prefixOf(partition ?? '?');
      const range = [...new Set(ranges.map(prefixOf))].filter((kind) => kind !== base);
      return range.length > 0 ? `${base}/${range.join(',')}*` : `${base}*`;
    }
    case 'BatchWriteItem':
    case 'BatchGetItem': {
      const kinds: string[] = [];
      const requestItems = isRecord(input.RequestItems) ? input.RequestItems : {};
      for (const entry of Object.values(requestItems)) {
        if (Array.isArray(entry)) kinds.push(...entry.map(writeRequestKind));
        else if (isRecord(entry) && Array.isArray(entry.Keys)) kinds.push(...entry.Keys.map(kindOfKey));
      }
      return unique(kinds);
    }
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
      return unique(items.map(writeRequestKind));
    }
    default:
      return '';
  }
};

const consumedOf = (output: unknown): Consumed[] => {
  if (!isRecord(output)) return [];
  const consumed = output.ConsumedCapacity;
  if (Array.isArray(consumed)) return consumed.filter(isRecord) as Consumed[];
  return isRecord(consumed) ? [consumed as Consumed] : [];
};

/** The error's name; for a cancelled transaction with the reasons that are not `None`, e.g. `…[ConditionalCheckFailed]`. */
const errorName = (error: unknown): string => {
  const name = isRecord(error) && typeof error.name === 'string' ? error.name : 'Error';
  const reasons =
    isRecord(error) && Array.isArray(error.CancellationReasons) ? error.CancellationReasons : [];
  const codes = reasons
    .map((reason: unknown) => (isRecord(reason) && typeof reason.Code === 'string' ? reason.Code : '?'))
    .filter((code) => code !== 'None');
  return codes.length > 0 ? `${name}[${[...new Set(codes)].join(',')}]` : name;
};

/** Splits one ConsumedCapacity entry into read and write units, and the part of them spent on GSIs. */
const unitsOf = (entry: Consumed, kind: 'read' | 'write') => {
  const split = (units: Units) => {
    if (units.ReadCapacityUnits !== undefined || units.WriteCapacityUnits !== undefined) {
      return { read: units.ReadCapacityUnits ?? 0, write: units.WriteCapacityUnits ?? 0 };
    }
    const total = units.CapacityUnits ?? 0;
    return kind === 'read' ? { read: total, write: 0 } : { read: 0, write: total };
  };
  const all = split(entry);
  const index = { read: 0, write: 0 };
  for (const units of Object.values(entry.GlobalSecondaryIndexes ?? {})) {
    const part = split(units);
    index.read += part.read;
    index.write += part.write;
  }
  return { ...all, indexRead: index.read, indexWrite: index.write };
};

const copyRow = (row: CapacityRow): CapacityRow => ({
  ...row,
  failures: { ...row.failures },
  durationsMs: [...row.durationsMs],
  billed: [...row.billed],
});

let installed: CapacityMeter | undefined;

/** Installs the meter once per process (idempotent); call it before the local cloud starts. */
export const installCapacityMeter = (): CapacityMeter => {
  if (installed) return installed;
  const totals = new Map<string, CapacityRow>();
  const listeners = new Set<CallListener>();
  const rowFor = (operation: string, target: string): CapacityRow => {
    const key = `${operation} ${target}`;
    let row = totals.get(key);
    if (!row) {
      row = {
        operation,
        target,
        calls: 0,
        failed: 0,
        failures: {},
        unreported: 0,
        readCapacityUnits: 0,
        writeCapacityUnits: 0,
        indexReadCapacityUnits: 0,
        indexWriteCapacityUnits: 0,
        durationsMs: [],
        billed: [],
      };
      totals.set(key, row);
    }
    return row;
  };

  const prototypes = [DynamoDBClient.prototype, DynamoDBDocumentClient.prototype] as unknown as Patchable[];
  const restore: (() => void)[] = [];
  for (const [index, prototype] of prototypes.entries()) {
    const document = index === 1;
    const hadOwn = Object.hasOwn(prototype, 'send');
    const original = prototype.send;
    const patched: Send = async function (this: object, command: unknown, ...rest: unknown[]) {
      const name = isRecord(command)
        ? (command as { constructor?: { name?: string } }).constructor?.name
        : undefined;
      const known = name ? OPERATIONS[name] : undefined;
      const input = isRecord(command) && isRecord(command.input) ? command.input : undefined;
      if (!known || !input) return original.call(this, command, ...rest);
      // INDEXES: the TOTAL figures plus the share of each global secondary index.
      input.ReturnConsumedCapacity = 'INDEXES';
      // Document commands wrap a low-level command built from the same input object; set it there too.
      const inner = isRecord(command) && isRecord(command.clientCommand) ? command.clientCommand : undefined;
      if (inner && isRecord(inner.input) && inner.input !== input) {
        inner.input.ReturnConsumedCapacity = input.ReturnConsumedCapacity;
      }
      const row = rowFor(known.op, targetOf(known.op, input));
      row.calls++;
      const started = performance.now();
      const time = () => row.durationsMs.push(performance.now() - started);
      const bill = (output: unknown, failed: boolean) => {
        const call = billedCall({
          op: known.op,
          input,
          output,
          failed,
          consumed: consumedOf(output),
          document,
        });
        if (!call) return;
        row.billed.push(call);
        for (const listener of listeners) listener(call, row);
      };
      let output: unknown;
      try {
        output = await original.call(this, command, ...rest);
      } catch (error) {
        time();
        bill(undefined, true);
        const failure = errorName(error);
        row.failed++;
        row.failures[failure] = (row.failures[failure] ?? 0) + 1;
        throw error;
      }
      time();
      bill(output, false);
      const consumed = consumedOf(output);
      if (consumed.length === 0) row.unreported++;
      else row.sample = isRecord(output) ? output.ConsumedCapacity : undefined;
      for (const entry of consumed) {
        const units = unitsOf(entry, known.kind);
        row.readCapacityUnits += units.read;
        row.writeCapacityUnits += units.write;
        row.indexReadCapacityUnits += units.indexRead;
        row.indexWriteCapacityUnits += units.indexWrite;
      }
      return output;
    };
    prototype.send = patched;
    restore.push(() => {
      if (hadOwn) prototype.send = original;
      else delete (prototype as Partial<Patchable>).send;
    });
  }

  const meter: CapacityMeter = {
    mark: () => new Map([...totals].map(([key, row]) => [key, copyRow(row)])),
    since: (mark) => {
      const rows: CapacityRow[] = [];
      for (const [key, now] of totals) {
        const before = mark.get(key);
        const row = copyRow(now);
        if (before) {
          row.calls -= before.calls;
          row.failed -= before.failed;
          row.unreported -= before.unreported;
          row.readCapacityUnits -= before.readCapacityUnits;
          row.writeCapacityUnits -= before.writeCapacityUnits;
          row.indexReadCapacityUnits -= before.indexReadCapacityUnits;
          row.indexWriteCapacityUnits -= before.indexWriteCapacityUnits;
          row.durationsMs.splice(0, before.durationsMs.length);
          row.billed.splice(0, before.billed.length);
          for (const [failure, count] of Object.entries(before.failures)) {
            row.failures[failure] = (row.failures[failure] ?? 0) - count;
            if (row.failures[failure] === 0) delete row.failures[failure];
          }
        }
        if (row.calls > 0) rows.push(row);
      }
      return rows.sort(
        (a, b) =>
          b.readCapacityUnits + b.writeCapacityUnits - (a.readCapacityUnits + a.writeCapacityUnits) ||
          b.calls - a.calls,
      );
    },
    observe: (listener) => {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    uninstall: () => {
      for (const undo of restore) undo();
      installed = undefined;
    },
  };
  installed = meter;
  return meter;
};

/** An item's size by DynamoDB's rule (it lives with the billing rules; targets.ts reads it from here). */
export { itemBytes } from './cost-dynamodb.ts';
