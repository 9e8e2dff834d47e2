/**
 * Lambda event filtering (the EventBridge pattern syntax Lambda applies to event-source records), over the
 * JSON shape of a record. A pattern is matched key by key (all keys must match); a nested object descends
 * into the record; a leaf array lists the allowed matchers (any may match):
 *   - a string / number / boolean / null: exact match (numbers compare numerically)
 *   - `{ exists: true | false }`: the leaf is present / absent
 *   - `{ prefix: 'x' }`, `{ suffix: 'x' }` (either may also take `{ 'equals-ignore-case': 'x' }`)
 *   - `{ 'equals-ignore-case': 'x' }`, `{ wildcard: 'a*b' }`
 *   - `{ 'anything-but': value | [values] | { prefix } | { suffix } | { 'equals-ignore-case' } }`
 *   - `{ numeric: ['>', 0, '<=', 5] }` (operators `<`, `<=`, `=`, `>`, `>=`; the record value must be a
 *     JSON number — DynamoDB `N` attributes are strings and so never match a numeric matcher, as on AWS)
 * When the record value is an array, the leaf matches if any element matches. Like EventBridge, leaf
 * matchers only match leaf values (never objects), and `exists` tests leaf presence.
 * Several patterns (a consumer's filter list) are OR-ed; an empty list lets every record through.
 */
import type { FilterPattern } from '../../shared/config/routes.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Leaf = null | boolean | number | string;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isLeaf = (value: unknown): value is Leaf =>
  value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

export class InvalidFilterPatternError extends Error {
  constructor(message: string, path: readonly string[]) {
    super(`invalid filter pattern at ${path.length > 0 ? path.join('.') : '(root)'}: ${message}`);
    this.name = 'InvalidFilterPatternError';
  }
}

const NUMERIC_OPERATORS = new Set(['<', '<=', '=', '>', '>=']);

const compareNumeric = (operator: string, actual: number, expected: number): boolean => {
  switch (operator) {
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '=':
      return actual === expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    default:
      return false;
  }
};

const wildcardToRegExp = (wildcard: string): RegExp => {
  const escaped = wildcard
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${escaped}$`, 's');
};

/** Matches a string against `'x'` or `{ 'equals-ignore-case': 'x' }` via the given comparison. */
const stringOperand = (
  operand: unknown,
  value: string,
  compare: (value: string, operand: string) => boolean,
  path: readonly string[],
): boolean => {
  if (typeof operand === 'string') return compare(value, operand);
  if (isPlainObject(operand) && typeof operand['equals-ignore-case'] === 'string') {
    return compare(value.toLowerCase(), operand['equals-ignore-case'].toLowerCase());
  }
  throw new InvalidFilterPatternError('expected a string or { "equals-ignore-case": string }', path);
};

const validateMatcher = (matcher: unknown, path: readonly string[]): void => {
  if (isLeaf(matcher)) return;
  if (!isPlainObject(matcher))
    throw new InvalidFilterPatternError('a leaf array holds values or matchers', path);
  const keys = Object.keys(matcher);
  if (keys.length !== 1)
    throw new InvalidFilterPatternError('a matcher object has exactly one operator', path);
  const operator = keys[0] ?? '';
  const operand = matcher[operator];
  switch (operator) {
    case 'exists':
      if (typeof operand !== 'boolean') throw new InvalidFilterPatternError('exists takes a boolean', path);
      return;
    case 'prefix':
    case 'suffix':
      stringOperand(operand, '', () => true, path);
      return;
    case 'equals-ignore-case':
    case 'wildcard':
      if (typeof operand !== 'string')
        throw new InvalidFilterPatternError(`${operator} takes a string`, path);
      return;
    case 'anything-but': {
      if (isLeaf(operand)) return;
      if (Array.isArray(operand)) {
        if (!operand.every(isLeaf))
          throw new InvalidFilterPatternError('anything-but lists plain values', path);
        return;
      }
      if (isPlainObject(operand)) {
        const inner = Object.keys(operand);
        const innerOperator = inner[0] ?? '';
        if (inner.length === 1 && ['prefix', 'suffix', 'equals-ignore-case'].includes(innerOperator)) {
          const innerOperand = operand[innerOperator];
          const ok =
            typeof innerOperand === 'string' ||
            (innerOperator === 'equals-ignore-case' &&
              Array.isArray(innerOperand) &&
              innerOperand.every((item) => typeof item === 'string'));
          if (ok) return;
        }
      }
      throw new InvalidFilterPatternError('unsupported anything-but operand', path);
    }
    case 'numeric': {
      if (!Array.isArray(operand) || (operand.length !== 2 && operand.length !== 4)) {
        throw new InvalidFilterPatternError('numeric takes [op, n] or [op, n, op, n]', path);
      }
      for (let index = 0; index < operand.length; index += 2) {
        const op = operand[index];
        const value = operand[index + 1];
        if (typeof op !== 'string' || !NUMERIC_OPERATORS.has(op) || typeof value !== 'number') {
          throw new InvalidFilterPatternError('numeric takes [op, n] or [op, n, op, n]', path);
        }
      }
      return;
    }
    default:
      throw new InvalidFilterPatternError(`unknown operator ${operator}`, path);
  }
};

/** Throws `InvalidFilterPatternError` unless the pattern is one Lambda would accept (within this subset). */
export const validateFilterPattern = (pattern: FilterPattern, path: readonly string[] = []): void => {
  if (!isPlainObject(pattern)) throw new InvalidFilterPatternError('a pattern is an object', path);
  for (const [key, rule] of Object.entries(pattern)) {
    const here = [...path, key];
    if (Array.isArray(rule)) {
      if (rule.length === 0) throw new InvalidFilterPatternError('a leaf array may not be empty', here);
      for (const matcher of rule) validateMatcher(matcher, here);
    } else if (isPlainObject(rule)) {
      validateFilterPattern(rule, here);
    } else {
      throw new InvalidFilterPatternError('values must be wrapped in an array, e.g. ["INSERT"]', here);
    }
  }
};

const leafEquals = (a: Leaf, b: Leaf): boolean => a === b;

/** One matcher against one present leaf value (arrays already expanded). */
const matchLeaf = (matcher: unknown, value: Leaf, path: readonly string[]): boolean => {
  if (isLeaf(matcher)) return leafEquals(matcher, value);
  if (!isPlainObject(matcher)) return false;
  const operator = Object.keys(matcher)[0] ?? '';
  const operand = matcher[operator];
  switch (operator) {
    case 'exists':
      return operand === true;
    case 'prefix':
      return typeof value === 'string' && stringOperand(operand, value, (v, o) => v.startsWith(o), path);
    case 'suffix':
      return typeof value === 'string' && stringOperand(operand, value, (v, o) => v.endsWith(o), path);
    case 'equals-ignore-case':
      return (
        typeof value === 'string' &&
        typeof operand === 'string' &&
        value.toLowerCase() === operand.toLowerCase()
      );
    case 'wildcard':
      return (
        typeof value === 'string' && typeof operand === 'string' && wildcardToRegExp(operand).test(value)
      );
    case 'anything-but': {
      if (isLeaf(operand)) return !leafEquals(operand, value);
      if (Array.isArray(operand)) return !operand.some((item) => isLeaf(item) && leafEquals(item, value));
      if (isPlainObject(operand)) {
        if (typeof value !== 'string') return true;
        if (typeof operand.prefix === 'string') return !value.startsWith(operand.prefix);
        if (typeof operand.suffix === 'string') return !value.endsWith(operand.suffix);
        const ignoreCase = operand['equals-ignore-case'];
        const list = Array.isArray(ignoreCase) ? ignoreCase : [ignoreCase];
        return !list.some((item) => typeof item === 'string' && item.toLowerCase() === value.toLowerCase());
      }
      return false;
    }
    case 'numeric': {
      if (typeof value !== 'number' || !Array.isArray(operand)) return false;
      for (let index = 0; index < operand.length; index += 2) {
        const op = operand[index];
        const expected = operand[index + 1];
        if (typeof op !== 'string' || typeof expected !== 'number') return false;
        if (!compareNumeric(op, value, expected)) return false;
      }
      return true;
    }
    default:
      throw new InvalidFilterPatternError(`unknown operator ${operator}`, path);
  }
};

const matchRuleList = (
  rules: readonly unknown[],
  present: boolean,
  value: unknown,
  path: readonly string[],
) =>
  rules.some((matcher) => {
    if (isPlainObject(matcher) && Object.keys(matcher)[0] === 'exists') {
      if (matcher.exists === false) return !present;
      // exists: true — a present leaf (or a non-empty array of leaves).
      if (!present) return false;
      if (Array.isArray(value)) return value.some(isLeaf);
      return isLeaf(value);
    }
    if (!present) return false;
    if (Array.isArray(value)) return value.some((item) => isLeaf(item) && matchLeaf(matcher, item, path));
    return isLeaf(value) && matchLeaf(matcher, value, path);
  });

const matchObject = (pattern: Record<string, unknown>, event: unknown, path: readonly string[]): boolean => {
  const record = isPlainObject(event) ? event : {};
  for (const [key, rule] of Object.entries(pattern)) {
    const here = [...path, key];
    const present = Object.hasOwn(record, key) && record[key] !== undefined;
    const value = present ? record[key] : undefined;
    if (Array.isArray(rule)) {
      if (!matchRuleList(rule, present, value, here)) return false;
    } else if (isPlainObject(rule)) {
      // A missing (or non-object) node behaves like an empty object: only `exists: false` leaves match.
      if (!matchObject(rule, value, here)) return false;
    } else {
      throw new InvalidFilterPatternError('values must be wrapped in an array, e.g. ["INSERT"]', here);
    }
  }
  return true;
};

/** Whether one record (its JSON shape) matches one pattern. */
export const matchesFilter = (pattern: FilterPattern, record: unknown): boolean =>
  matchObject(pattern, toJson(record), []);

/** Lambda's rule for a list of filters: any one matching lets the record through; no filters let all through. */
export const matchesAnyFilter = (patterns: readonly FilterPattern[], record: unknown): boolean => {
  if (patterns.length === 0) return true;
  const json = toJson(record);
  return patterns.some((pattern) => matchObject(pattern, json, []));
};

/** The record as Lambda sees it when filtering: its JSON serialization (drops undefined, Dates → strings). */
const toJson = (record: unknown): Json => {
  if (isLeaf(record)) return record;
  return JSON.parse(JSON.stringify(record) ?? 'null') as Json;
};
