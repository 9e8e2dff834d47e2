/**
 * Chat filters of `GET /v1/chats` (docs/data-model.md, "Metadata filters"): parsing the query string
 * into typed conditions and matching a chat against them. Pure: no I/O. Which conditions an index
 * answers is decided by the store (shared/adapters/dynamo/chat-filter-plan.ts, planFilter); the same
 * section describes the plan.
 */
import * as z from '../zod.ts';
import { ValidationError } from './errors.ts';
import { type ChatRecord, listChatsQuery } from './schemas.ts';

export const FILTER_OPS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'between',
  'begins_with',
  'contains',
  'in',
  'exists',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

/** Ops an index can answer on an indexed key (eq by the equality GSI, the others by the range GSI). */
export const INDEXABLE_OPS: readonly FilterOp[] = ['eq', 'gt', 'gte', 'lt', 'lte', 'between', 'begins_with'];

export type MetadataCondition =
  | { readonly key: string; readonly op: 'eq' | 'ne' | 'begins_with' | 'contains'; readonly value: string }
  | { readonly key: string; readonly op: 'gt' | 'gte' | 'lt' | 'lte'; readonly value: number }
  | { readonly key: string; readonly op: 'between'; readonly value: readonly [number, number] }
  | { readonly key: string; readonly op: 'in'; readonly value: readonly string[] }
  | { readonly key: string; readonly op: 'exists'; readonly value: boolean };

export interface ChatFilter {
  readonly metadata: readonly MetadataCondition[];
  readonly status?: 'open' | 'closed';
  readonly assignee?: string;
  readonly participant?: string;
  /** ISO time (UTC, `Z`): chats whose lastActivityAt is later. */
  readonly updatedAfter?: string;
}

export interface ListChatsRequest {
  readonly limit: number;
  readonly cursor?: string;
  readonly filter: ChatFilter;
}

export const MAX_FILTER_VALUE_LENGTH = 256;
export const MAX_IN_VALUES = 20;
const PREFIX = 'metadata__';
const KEY_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;
/** What a filter's metadata key may be; also the rule for the indexed keys (shared/config/metadata-index.ts). */
export const METADATA_KEY_RULE = 'dot-separated segments of 1 to 64 letters, digits, _ and -';
export const isMetadataKeyPath = (key: string): boolean =>
  key.split('.').every((segment) => KEY_SEGMENT.test(segment));
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A number, or text that is a number literal: numbers compare as numbers wherever they come from. */
export const asNumber = (value: unknown): number | undefined => {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string' || !NUMBER.test(value.trim())) return undefined;
  const number = Number(value);
  return Number.isFinite(number) ? number : undefined;
};

/**
 * The canonical text of a scalar for equality (and for the equality index's partition): numbers (and
 * number literals) by their JS canonical form, so `2`, `"2"` and `"2.0"` are equal; booleans as
 * `true`/`false`; text as is. Objects, arrays and null have none.
 */
export const scalarKey = (value: unknown): string | undefined => {
  const number = asNumber(value);
  if (number !== undefined) return String(number === 0 ? 0 : number);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean') return String(value);
  return undefined;
};

/** The value at a dotted path of the metadata (`customer.tier`), undefined when absent. */
export const metadataValue = (metadata: unknown, key: string): unknown => {
  let current: unknown = metadata;
  for (const segment of key.split('.')) {
    if (!current || typeof current !== 'object' || Array.isArray(current)) return undefined;
    if (!Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
};

/** A parameter's text turned into a value, or `invalid(ctx, message)`. */
const fromText = <T>(convert: (value: string, ctx: z.core.ParsePayload) => T) =>
  z.pipe(z.string(), z.transform(convert));
/** Fails a conversion with `message` (zod/mini's transforms have no `ctx.addIssue`). */
const invalid = (ctx: z.core.ParsePayload, message: string): never => {
  ctx.issues.push({ code: 'custom', message, input: ctx.value });
  return z.NEVER;
};

const text = z.string().check(z.minLength(1), z.maxLength(MAX_FILTER_VALUE_LENGTH));
const numeric = fromText((value, ctx) => asNumber(value) ?? invalid(ctx, 'must be a number'));
const opValue = {
  eq: z.string().check(z.maxLength(MAX_FILTER_VALUE_LENGTH)),
  ne: z.string().check(z.maxLength(MAX_FILTER_VALUE_LENGTH)),
  begins_with: text,
  contains: text,
  gt: numeric,
  gte: numeric,
  lt: numeric,
  lte: numeric,
  between: fromText((value, ctx) => {
    const parts = value.split(',');
    const [low, high] = parts.map(asNumber);
    if (parts.length !== 2 || low === undefined || high === undefined || low > high)
      return invalid(ctx, 'must be two numbers low,high with low <= high');
    return [low, high] as const;
  }),
  in: fromText((value, ctx) => {
    const items = value.split(',');
    if (items.length > MAX_IN_VALUES || items.some((item) => item.length === 0 || item.length > 256))
      return invalid(ctx, `must be 1 to ${MAX_IN_VALUES} comma-separated non-empty values`);
    return items;
  }),
  exists: z.pipe(
    z.enum(['true', 'false'], { error: 'must be true or false' }),
    z.transform((value: 'true' | 'false') => value === 'true'),
  ),
} satisfies Record<FilterOp, z.ZodMiniType>;

interface Issue {
  path: string[];
  message: string;
}

const parseMetadataParam = (name: string, raw: string): MetadataCondition | Issue => {
  const rest = name.slice(PREFIX.length);
  const split = rest.lastIndexOf('__');
  const key = split === -1 ? rest : rest.slice(0, split);
  const op = split === -1 ? 'eq' : rest.slice(split + 2);
  if (!(FILTER_OPS as readonly string[]).includes(op))
    return { path: [name], message: `unknown operator "${op}", use one of ${FILTER_OPS.join(', ')}` };
  if (!isMetadataKeyPath(key)) return { path: [name], message: `metadata key: ${METADATA_KEY_RULE}` };
  const parsed = opValue[op as FilterOp].safeParse(raw);
  if (!parsed.success) return { path: [name], message: parsed.error.issues[0]?.message ?? 'invalid' };
  return { key, op, value: parsed.data } as MetadataCondition;
};

/**
 * Parses the query of `GET /v1/chats`: limit, cursor, the standard fields and `metadata__<key>[__<op>]`.
 * Throws a ValidationError (400) listing every bad parameter.
 */
export const parseListChatsQuery = (raw: unknown): ListChatsRequest => {
  const result = listChatsQuery.safeParse(raw ?? {});
  if (!result.success)
    throw new ValidationError(
      'invalid query',
      result.error.issues.map((issue) => ({ path: issue.path.map(String), message: issue.message })),
    );
  const { limit, cursor, status, assignee, participant, updatedAfter, ...rest } = result.data;
  const issues: Issue[] = [];
  const metadata: MetadataCondition[] = [];
  for (const [name, value] of Object.entries(rest)) {
    if (!name.startsWith(PREFIX) || typeof value !== 'string') {
      issues.push({ path: [name], message: 'unknown parameter' });
      continue;
    }
    const condition = parseMetadataParam(name, value);
    if ('op' in condition) metadata.push(condition);
    else issues.push(condition);
  }
  if (issues.length > 0) throw new ValidationError('invalid query', issues);
  return {
    limit,
    ...(cursor ? { cursor } : {}),
    filter: {
      metadata,
      ...(status ? { status } : {}),
      ...(assignee ? { assignee } : {}),
      ...(participant ? { participant } : {}),
      ...(updatedAfter ? { updatedAfter: new Date(updatedAfter).toISOString() } : {}),
    },
  };
};

export const isEmptyFilter = (filter: ChatFilter): boolean =>
  filter.metadata.length === 0 &&
  filter.status === undefined &&
  filter.assignee === undefined &&
  filter.participant === undefined &&
  filter.updatedAfter === undefined;

/** Conditions an index can answer: an indexable op on one of the indexed keys. */
export const indexedConditions = (filter: ChatFilter, indexedKeys: readonly string[]): MetadataCondition[] =>
  filter.metadata.filter(
    (condition) => indexedKeys.includes(condition.key) && INDEXABLE_OPS.includes(condition.op),
  );

/**
 * Refuses a filter that neither an index nor a standard field narrows (it would read the whole tenant):
 * 400 naming the indexed keys.
 */
export const requireAnswerable = (filter: ChatFilter, indexedKeys: readonly string[]): void => {
  if (isEmptyFilter(filter)) return;
  const standard =
    filter.status !== undefined ||
    filter.assignee !== undefined ||
    filter.participant !== undefined ||
    filter.updatedAfter !== undefined;
  if (standard || indexedConditions(filter, indexedKeys).length > 0) return;
  throw new ValidationError(
    `filter on an indexed metadata key (${indexedKeys.join(', ')}) with ${INDEXABLE_OPS.join(', ')}, ` +
      'or on status, assignee, participant or updatedAfter',
    { indexedKeys },
  );
};

const isText = (value: unknown): value is string =>
  typeof value === 'string' && asNumber(value) === undefined;

export const matchesCondition = (metadata: unknown, condition: MetadataCondition): boolean => {
  const actual = metadataValue(metadata, condition.key);
  if (condition.op === 'exists') return (actual !== undefined) === condition.value;
  if (actual === undefined) return false;
  switch (condition.op) {
    case 'eq':
    case 'ne': {
      const key = scalarKey(actual);
      if (key === undefined) return false;
      return (key === scalarKey(condition.value)) === (condition.op === 'eq');
    }
    case 'in': {
      const key = scalarKey(actual);
      return key !== undefined && condition.value.some((item) => scalarKey(item) === key);
    }
    case 'begins_with':
      return isText(actual) && actual.startsWith(condition.value);
    case 'contains':
      if (typeof actual === 'string') return actual.includes(condition.value);
      return Array.isArray(actual) && actual.some((item) => scalarKey(item) === scalarKey(condition.value));
  }
  const number = asNumber(actual);
  if (number === undefined) return false;
  if (condition.op === 'between') return number >= condition.value[0] && number <= condition.value[1];
  if (condition.op === 'gt') return number > condition.value;
  if (condition.op === 'gte') return number >= condition.value;
  if (condition.op === 'lt') return number < condition.value;
  return number <= condition.value;
};

/** Every condition of the filter except `participant` (membership is the store's to check). */
export const matchesChat = (chat: ChatRecord, filter: ChatFilter): boolean => {
  if (filter.status !== undefined && chat.status !== filter.status) return false;
  if (filter.assignee !== undefined && (chat as { assignee?: unknown }).assignee !== filter.assignee)
    return false;
  if (filter.updatedAfter !== undefined && !(chat.lastActivityAt > filter.updatedAfter)) return false;
  return filter.metadata.every((condition) => matchesCondition(chat.metadata, condition));
};
