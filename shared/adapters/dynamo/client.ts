import {
  type ConditionalCheckFailedException,
  DynamoDBClient,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  QueryCommand,
  type QueryCommandInput,
  type TransactWriteCommand,
} from '@aws-sdk/lib-dynamodb';
import { backoffDelay, noJitter } from '../../domain/backoff.ts';
import { BusyError, ValidationError } from '../../domain/errors.ts';

export interface TableContext {
  readonly doc: DynamoDBDocumentClient;
  readonly tableName: string;
}

/** `region`: only for tools run outside Lambda (default: the SDK's region chain). */
export const createTableContext = (tableName: string, endpoint?: string, region?: string): TableContext => {
  const client = new DynamoDBClient({
    maxAttempts: 5,
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
  });
  const doc = DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  // A deploy that adds a GSI completes before the index is ACTIVE: until then a Query on it is a 503
  // saying so, not a 500 (docs/deploy.md, "Upgrading" and "Indexed metadata keys"). A start key
  // DynamoDB refuses came from a crafted cursor: a 400.
  doc.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const indexName = (args.input as { IndexName?: unknown }).IndexName;
        if (typeof indexName === 'string' && indexNotReady(error))
          throw new BusyError(
            `the index ${indexName} is still being built after a deploy; retry in a few minutes`,
          );
        if (invalidStartKey(error, args.input)) throw new ValidationError('invalid cursor');
        throw error;
      }
    },
    { step: 'initialize', name: 'indexNotReady' },
  );
  return { doc, tableName };
};

/**
 * DynamoDB's answer to a Query on an index that a deploy is still creating (backfilling) or that does
 * not exist yet: a ValidationException, which would otherwise surface as a 500.
 */
export const indexNotReady = (error: unknown): boolean => {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return (
    name === 'ValidationException' &&
    typeof message === 'string' &&
    /backfilling global secondary index|does not have the specified index/i.test(message)
  );
};

/** An SDK error's name (`ConditionalCheckFailedException`, `ValidationException`, …); '' if it has none. */
export const errorName = (error: unknown): string => (error as { name?: string } | undefined)?.name ?? '';

/**
 * A single-item write refused by its ConditionExpression. With `ReturnValuesOnConditionCheckFailure`,
 * the refused item is in `error.Item` (marshalled).
 */
export const isConditionFailed = (error: unknown): error is ConditionalCheckFailedException =>
  errorName(error) === 'ConditionalCheckFailedException';

/**
 * For a cancelled transaction, which of its items failed their ConditionExpression, in TransactItems
 * order (`[0]` the first item, `.at(-1)` the last); undefined for any other error.
 */
export const failedConditions = (error: unknown): boolean[] | undefined =>
  error instanceof TransactionCanceledException
    ? (error.CancellationReasons ?? []).map((reason) => reason.Code === 'ConditionalCheckFailed')
    : undefined;

/** Opaque pagination cursor: the base64url JSON of a LastEvaluatedKey. */
export const encodeCursor = (key: Record<string, unknown> | undefined): string | undefined =>
  key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;

/** A LastEvaluatedKey holds the table's key and, for an index, the index's: at most 4 attributes. */
const CURSOR_MAX_ATTRIBUTES = 4;
/** Every key attribute of the table and its indexes is a string (shared/config/table.ts). */
const CURSOR_MAX_VALUE_LENGTH = 1024;
const CURSOR_NAME = /^[A-Za-z0-9_]{1,64}$/;

/**
 * Decodes a cursor and checks it is shaped like a key (a few string attributes) and belongs to the
 * partition being queried; anything else is a 400. A key DynamoDB still refuses (attributes of another
 * index, outside the query's range) is a 400 too: see `invalidStartKey`.
 */
export const decodeCursor = (
  cursor: string | undefined,
  expected: Record<string, string>,
): Record<string, unknown> | undefined => {
  if (!cursor) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('invalid cursor');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError('invalid cursor');
  const record = value as Record<string, unknown>;
  const entries = Object.entries(record);
  const keyShaped =
    entries.length <= CURSOR_MAX_ATTRIBUTES &&
    entries.every(
      ([name, attribute]) =>
        CURSOR_NAME.test(name) &&
        typeof attribute === 'string' &&
        attribute.length > 0 &&
        attribute.length <= CURSOR_MAX_VALUE_LENGTH,
    );
  if (!keyShaped) throw new ValidationError('invalid cursor');
  for (const [name, expectedValue] of Object.entries(expected)) {
    if (record[name] !== expectedValue) throw new ValidationError('invalid cursor');
  }
  return record;
};

/**
 * DynamoDB's answer to an ExclusiveStartKey that is not a key of the table or index queried, or lies
 * outside the query's key condition (a crafted or foreign cursor): a ValidationException naming the
 * start key, which would otherwise surface as a 500.
 */
export const invalidStartKey = (error: unknown, input: unknown): boolean => {
  const { name, message } = (error ?? {}) as { name?: unknown; message?: unknown };
  return (
    name === 'ValidationException' &&
    (input as { ExclusiveStartKey?: unknown } | undefined)?.ExclusiveStartKey !== undefined &&
    typeof message === 'string' &&
    /start(ing)? key|ExclusiveStartKey|key element does not match/i.test(message)
  );
};

/**
 * One page of a partition's items with `from <= sk <= to`, in key order (or reverse), plus whether
 * more follow: reads `limit + 1` items so `hasMore` costs no second request.
 */
export const queryRange = async (
  table: TableContext,
  range: { pk: string; from: string; to: string; limit: number; descending?: boolean },
): Promise<{ items: Record<string, unknown>[]; hasMore: boolean }> => {
  const result = await table.doc.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': range.pk, ':from': range.from, ':to': range.to },
      ScanIndexForward: !range.descending,
      Limit: range.limit + 1,
    }),
  );
  const items = result.Items ?? [];
  return { items: items.slice(0, range.limit), hasMore: items.length > range.limit };
};

/** Every item a query matches, page after page (at most `max` when given). */
export const queryAll = async (
  table: TableContext,
  input: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>,
  max = Number.POSITIVE_INFINITY,
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await table.doc.send(
      new QueryCommand({ ...input, TableName: table.tableName, ExclusiveStartKey: startKey }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey && items.length < max);
  return items.slice(0, max);
};

const BATCH_GET_MAX = 100;

/**
 * The items of `keys` that exist, by BatchGet in chunks of 100, retrying unprocessed keys with backoff
 * (throttling); throws if some stay unprocessed. Order is DynamoDB's, not the keys'.
 */
export const batchGetAll = async (
  table: TableContext,
  keys: readonly Record<string, unknown>[],
  projection?: { readonly expression: string; readonly names?: Record<string, string> },
  options: { readonly consistent?: boolean } = {},
): Promise<Record<string, unknown>[]> => {
  const items: Record<string, unknown>[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_MAX) {
    let pending = keys.slice(start, start + BATCH_GET_MAX);
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 8) throw new Error('could not read items: throttled');
      if (attempt > 0) await backoff(attempt, { jitter: noJitter });
      const result = await table.doc.send(
        new BatchGetCommand({
          RequestItems: {
            [table.tableName]: {
              Keys: [...pending],
              ...(projection ? { ProjectionExpression: projection.expression } : {}),
              ...(projection?.names ? { ExpressionAttributeNames: projection.names } : {}),
              ...(options.consistent ? { ConsistentRead: true } : {}),
            },
          },
        }),
      );
      items.push(...(result.Responses?.[table.tableName] ?? []));
      pending = result.UnprocessedKeys?.[table.tableName]?.Keys ?? [];
    }
  }
  return items;
};

/**
 * Waits the backoff delay before retry `attempt` (shared/domain/backoff.ts): by default full jitter, up
 * to 20 · 2^attempt ms.
 */
export const backoff = (
  attempt: number,
  { baseMs = 20, maxMs, jitter }: { baseMs?: number; maxMs?: number; jitter?: () => number } = {},
): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, baseMs, maxMs, jitter)));

const TRANSACT_ATTEMPTS = 6;

/**
 * Sends a TransactWriteItems that may collide with a concurrent transaction on one of its items:
 * DynamoDB then cancels it with a `TransactionConflict` reason. Backs off and retries (at most 6
 * attempts, then BusyError: 503 `busy` with `busyMessage`); any other error, condition failures
 * included, is the caller's to handle.
 */
export const transactWithRetry = async (
  table: TableContext,
  command: TransactWriteCommand,
  busyMessage: string,
): Promise<void> => {
  for (let attempt = 1; ; attempt++) {
    try {
      await table.doc.send(command);
      return;
    } catch (error) {
      const conflict =
        error instanceof TransactionCanceledException &&
        (error.CancellationReasons ?? []).some((reason) => reason.Code === 'TransactionConflict');
      if (!conflict) throw error;
      if (attempt >= TRANSACT_ATTEMPTS) throw new BusyError(busyMessage);
      await backoff(attempt);
    }
  }
};
