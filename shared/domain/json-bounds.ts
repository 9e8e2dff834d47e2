/**
 * Bounds on JSON input, checked before anything parses or validates it: a request body or a socket
 * frame longer than JSON_MAX_BYTES or nested deeper than JSON_MAX_DEPTH is refused with a 400 without
 * being parsed. Validation (zod) and the AWS SDK's marshalling walk values recursively, so an input nested
 * thousands deep would otherwise exhaust the stack, and DynamoDB refuses items nested deeper than 32
 * levels. Both checks here are loops, never recursion.
 */
import { ValidationError } from './errors.ts';

/** The longest JSON body or frame accepted, in UTF-8 bytes (a message of 8,000 escaped characters fits). */
export const JSON_MAX_BYTES = 256 * 1024;
/** The deepest nesting of objects and arrays accepted in a body or frame (the top-level value is 1). */
export const JSON_MAX_DEPTH = 32;

export interface JsonLimits {
  readonly maxBytes: number;
  readonly maxDepth: number;
}
const DEFAULT_LIMITS: JsonLimits = { maxBytes: JSON_MAX_BYTES, maxDepth: JSON_MAX_DEPTH };

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * The deepest nesting of `{` / `[` outside string literals in a JSON text, scanning no further than
 * `stopAbove` (the scan ends as soon as the depth passes it). Malformed text is scanned all the same:
 * JSON.parse refuses it afterwards.
 */
export const jsonTextDepth = (text: string, stopAbove = Number.POSITIVE_INFINITY): number => {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === BACKSLASH) i++;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      depth++;
      if (depth > deepest) {
        deepest = depth;
        if (deepest > stopAbove) return deepest;
      }
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth--;
  }
  return deepest;
};

/** Why a JSON text must not be parsed (too long, too deep), or undefined when it may. */
export const jsonTextProblem = (text: string, limits: JsonLimits = DEFAULT_LIMITS): string | undefined => {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: short texts skip the byte count.
  if (text.length * 3 > limits.maxBytes && Buffer.byteLength(text, 'utf8') > limits.maxBytes)
    return `JSON input must be at most ${limits.maxBytes} bytes`;
  if (jsonTextDepth(text, limits.maxDepth) > limits.maxDepth)
    return `JSON input must not be nested more than ${limits.maxDepth} levels deep`;
  return undefined;
};

/** Parses a JSON text within the bounds; anything too long, too deep or malformed is a 400. */
export const parseBoundedJson = (
  text: string,
  malformed: string,
  limits: JsonLimits = DEFAULT_LIMITS,
): unknown => {
  const problem = jsonTextProblem(text, limits);
  if (problem) throw new ValidationError(problem);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ValidationError(malformed);
  }
};

/**
 * The nesting depth of a parsed value (a scalar is 0, `{}` and `[]` are 1), stopping once it passes
 * `stopAbove`: a loop over an explicit stack, safe for any depth.
 */
export const valueDepth = (value: unknown, stopAbove = Number.POSITIVE_INFINITY): number => {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const next = stack.pop();
    if (!next || next.value === null || typeof next.value !== 'object') continue;
    const depth = next.depth + 1;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > stopAbove) return deepest;
    }
    for (const child of Object.values(next.value)) stack.push({ value: child, depth });
  }
  return deepest;
};

/**
 * Numbers a stored JSON value may hold: 0, or a magnitude from 1e-130 (DynamoDB's smallest) up to
 * Number.MAX_SAFE_INTEGER (beyond it the SDK refuses to marshal a JavaScript number, which has lost
 * precision there anyway).
 */
export const isStorableNumber = (value: number): boolean => {
  const magnitude = Math.abs(value);
  return magnitude === 0 || (magnitude >= 1e-130 && magnitude <= Number.MAX_SAFE_INTEGER);
};

/** Whether every number in a parsed JSON value is storable (a loop over an explicit stack). */
export const numbersStorable = (value: unknown): boolean => {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (typeof next === 'number' && !isStorableNumber(next)) return false;
    if (next !== null && typeof next === 'object') stack.push(...Object.values(next));
  }
  return true;
};
