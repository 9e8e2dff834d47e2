/**
 * fast-check arbitraries for fuzzing the routes: values generated from the JSON Schema zod writes for a
 * route's body, query or frame (the schemas of shared/domain/schemas.ts, as infra/openapi.ts describes
 * each route), then mutated — a key dropped or added, a value replaced by a wrong type, odd Unicode, a
 * huge string or array, JSON nested from a few to thousands of levels — or replaced by raw text that is
 * not JSON at all.
 */
import { fc } from '@fast-check/vitest';
import * as z from '../../shared/zod.ts';
import { JSON_MAX_BYTES, JSON_MAX_DEPTH } from '../../shared/domain/json-bounds.ts';

/** The subset of JSON Schema (draft 2020-12) that zod writes for our schemas. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  items?: JsonSchema;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

export const jsonSchemaOf = (schema: z.ZodMiniType): JsonSchema =>
  z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;

/** Hints for the names and values of properties beyond the declared ones (records, catch-alls). */
export const EXTRA_KEY = '$extraKey';
export const EXTRA_VALUE = '$extraValue';

/**
 * Values a property of this name takes from the fixture (real chat and message ids, users of the tenant
 * and of another one), so generated requests get past validation into authorization and the domain.
 */
export type Hints = Readonly<Record<string, fc.Arbitrary<unknown>>>;

/** Characters that break naive code: lone surrogates, NUL, controls, bidi overrides, emoji, BOM. */
const ODD_CHARACTERS = [
  '\ud800',
  '\udfff',
  '\u0000',
  '\u0007',
  '\n',
  '\r\n',
  '\u202e',
  '\u200f',
  '\u200d',
  '\ufeff',
  '\u2028',
  '\u0301',
  '👍',
  '🏳️‍🌈',
  '👩🏽‍💻',
  'مرحبا',
  '"',
  '\\',
  '%',
  '/',
  '#',
  '?',
  '&',
  '=',
  '..',
  '<script>',
  "'; --",
  '${x}',
];

export const oddString = (maxLength = 40): fc.Arbitrary<string> =>
  fc
    .array(fc.oneof(fc.constantFrom(...ODD_CHARACTERS), fc.string({ maxLength: 4, unit: 'binary' })), {
      maxLength,
    })
    .map((parts) => parts.join(''));

/** JSON nested `depth` levels deep (arrays or objects), around a scalar. */
export const nested = (depth: number, kind: 'array' | 'object'): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { a: value };
  return value;
};

/**
 * Depths around the bounds (just under and over them) and beyond; thousands of levels come as raw text
 * (`rawJsonText`), which JSON.stringify could not write.
 */
const depthArb = fc.oneof(
  fc.integer({ min: 2, max: 20 }),
  fc.integer({ min: JSON_MAX_DEPTH - 3, max: JSON_MAX_DEPTH + 3 }),
  fc.constantFrom(64, 500, 1_000),
);

/** A value of the wrong shape or extreme size for whatever it replaces. */
export const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    -0,
    1.5,
    1e308,
    -1e308,
    2 ** 53 + 1,
    '',
    ' ',
    '0',
    'null',
    [],
    {},
  ),
  oddString(),
  fc.tuple(depthArb, fc.constantFrom('array' as const, 'object' as const)).map(([d, k]) => nested(d, k)),
  fc.constantFrom(
    'x'.repeat(8_001),
    'é'.repeat(70_000),
    'x'.repeat(JSON_MAX_BYTES + 10),
    Array.from({ length: 10_000 }, (_, i) => i),
    Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, i])),
  ),
);

const dateTime = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true })
  .map((date) => date.toISOString());

const stringArb = (schema: JsonSchema): fc.Arbitrary<string> => {
  if (schema.format === 'date-time') return dateTime;
  if (schema.pattern) {
    try {
      return fc.stringMatching(new RegExp(schema.pattern));
    } catch {
      // a pattern fast-check cannot invert (e.g. \p{RGI_Emoji}): plain strings, usually refused
    }
  }
  const minLength = schema.minLength ?? 0;
  return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(schema.maxLength ?? 30, 30)) });
};

/**
 * Values valid (or nearly) for `schema`: strings match its pattern, numbers its range, objects carry
 * their required keys and some optional ones. Recursive definitions stop after a few levels.
 */
export const fromJsonSchema = (
  schema: JsonSchema,
  hints: Hints = {},
  root: JsonSchema = schema,
  name?: string,
  level = 0,
): fc.Arbitrary<unknown> => {
  const hint = name === undefined ? undefined : hints[name];
  if (hint) return hint;
  if (schema.$ref) {
    const target = root.$defs?.[schema.$ref.replace('#/$defs/', '')];
    return target && level < 3 ? fromJsonSchema(target, hints, root, name, level + 1) : fc.jsonValue();
  }
  const variants = schema.anyOf ?? schema.oneOf;
  if (variants) return fc.oneof(...variants.map((v) => fromJsonSchema(v, hints, root, name, level + 1)));
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (schema.type) {
    case 'string':
      return stringArb(schema);
    case 'integer':
      return fc.integer({
        min: Math.max(schema.minimum ?? -1e6, Number.MIN_SAFE_INTEGER),
        max: Math.min(schema.maximum ?? 1e6, Number.MAX_SAFE_INTEGER),
      });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array':
      return fc.array(
        schema.items ? fromJsonSchema(schema.items, hints, root, name, level + 1) : fc.jsonValue(),
        {
          maxLength: Math.min(schema.maxItems ?? 4, 4),
        },
      );
    case 'object':
      return objectArb(schema, hints, root, level);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
};

const objectArb = (
  schema: JsonSchema,
  hints: Hints,
  root: JsonSchema,
  level: number,
): fc.Arbitrary<Record<string, unknown>> => {
  const properties = schema.properties ?? {};
  const known = fc.record(
    Object.fromEntries(
      Object.entries(properties).map(([key, property]) => [
        key,
        fromJsonSchema(property, hints, root, key, level + 1),
      ]),
    ),
    { requiredKeys: (schema.required ?? []).filter((key) => key in properties) },
  );
  const extra = schema.additionalProperties;
  if (typeof extra !== 'object') return known;
  const names = schema.propertyNames ? stringArb(schema.propertyNames) : fc.string({ maxLength: 20 });
  const values = fromJsonSchema(extra, hints, root, undefined, level + 1);
  const extras = fc.dictionary(
    hints[EXTRA_KEY] ? fc.oneof(names, hints[EXTRA_KEY] as fc.Arbitrary<string>) : names,
    hints[EXTRA_VALUE] ? fc.oneof(values, hints[EXTRA_VALUE]) : values,
    { maxKeys: 3 },
  );
  const someExtras = fc.oneof({ weight: 2, arbitrary: fc.constant({}) }, extras);
  return fc.tuple(known, someExtras).map(([own, more]) => ({ ...more, ...own }));
};

/** One change to a valid object: a key dropped, a key added, or a value replaced (the key kept). */
export const mutated = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { weight: 5, arbitrary: valid },
    fc.tuple(valid, fc.nat()).map(([value, pick]) => {
      if (!isObject(value)) return value;
      const keys = Object.keys(value);
      const { [keys[pick % Math.max(keys.length, 1)] ?? '']: _dropped, ...rest } = value;
      return rest;
    }),
    fc
      .tuple(
        valid,
        fc.oneof(fc.string({ maxLength: 10 }), oddString(8), fc.constantFrom('__proto__', 'constructor')),
        nastyValue,
      )
      .map(([value, key, extra]) => (isObject(value) ? { ...value, [key]: extra } : extra)),
    {
      weight: 3,
      arbitrary: fc.tuple(valid, fc.nat(), nastyValue).map(([value, pick, replacement]) => {
        if (!isObject(value)) return replacement;
        const keys = Object.keys(value);
        const key = keys[pick % Math.max(keys.length, 1)];
        return key === undefined ? replacement : { ...value, [key]: replacement };
      }),
    },
    nastyValue,
  );

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A JSON body that is no valid JSON value, or one nested thousands deep, as raw text. */
export const rawJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '{',
    '}',
    '{"a":',
    '[1,]',
    "{'a':1}",
    'NaN',
    'undefined',
    '1e999',
    '\ufeff{}',
    '{"a":1}{"b":2}',
    '{"__proto__":{"polluted":true}}',
    '"\\ud800"',
    '{"a":"\\u0000"}',
    `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
    `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`,
    `{"metadata":{"x":${'['.repeat(5_000)}${']'.repeat(5_000)}}}`,
    '['.repeat(50_000),
  ),
  fc.string({ maxLength: 50, unit: 'binary' }),
);
