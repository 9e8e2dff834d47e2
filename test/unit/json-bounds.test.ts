/**
 * The bounds on JSON input (shared/domain/json-bounds.ts): the raw-text depth scan agrees with the
 * parsed value's depth, neither recurses, and metadata refuses what DynamoDB could not store.
 */
import { fc, it } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { ValidationError } from '../../shared/domain/errors.ts';
import {
  isStorableNumber,
  JSON_MAX_BYTES,
  JSON_MAX_DEPTH,
  jsonTextDepth,
  jsonTextProblem,
  numbersStorable,
  parseBoundedJson,
  valueDepth,
} from '../../shared/domain/json-bounds.ts';
import { METADATA_MAX_DEPTH, metadataSchema } from '../../shared/domain/schemas.ts';

const nestedText = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;
/** A value nested `depth` levels deep, built without recursion. */
const nestedValue = (depth: number): unknown => {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
};

describe('the depth of a JSON text', () => {
  it.prop([fc.jsonValue({ maxDepth: 6 })])(
    'is the depth of the value it encodes, whatever its strings hold',
    (value) => {
      // Act
      const fromText = jsonTextDepth(JSON.stringify(value));

      // Assess
      expect(fromText).toBe(valueDepth(value));
    },
  );

  it('counts brackets inside strings and after escaped quotes as text', () => {
    // Act
    const depth = jsonTextDepth('{"a":"[[[\\"{{{","b":["]"]}');

    // Assess
    expect(depth).toBe(2);
  });

  it('scans a text nested 100,000 levels deep without recursing, stopping once past the bound', () => {
    // Act
    const problem = jsonTextProblem(nestedText(100_000));

    // Assess
    expect(problem).toBe(`JSON input must not be nested more than ${JSON_MAX_DEPTH} levels deep`);
  });
});

describe('parseBoundedJson', () => {
  it('parses JSON within the bounds, up to the deepest nesting allowed', () => {
    // Act
    const value = parseBoundedJson(nestedText(JSON_MAX_DEPTH), 'bad');

    // Assess
    expect(valueDepth(value)).toBe(JSON_MAX_DEPTH);
  });

  it.each([
    ['nested one level too deep', nestedText(JSON_MAX_DEPTH + 1), 'nested more than'],
    [
      'longer than the byte bound',
      JSON.stringify('é'.repeat(JSON_MAX_BYTES / 2)),
      `at most ${JSON_MAX_BYTES} bytes`,
    ],
    ['malformed', '{"a":', 'bad'],
  ])('refuses a text %s with a ValidationError (400)', (_name, text, message) => {
    // Act
    const parse = () => parseBoundedJson(text, 'bad');

    // Assess
    expect(parse).toThrow(ValidationError);
    expect(parse).toThrow(message);
  });
});

describe('valueDepth', () => {
  it('measures a value nested 100,000 levels deep without recursing', () => {
    // Act
    const depth = valueDepth(nestedValue(100_000), JSON_MAX_DEPTH);

    // Assess
    expect(depth).toBe(JSON_MAX_DEPTH + 1);
  });
});

describe('numbers DynamoDB can store', () => {
  it.prop([fc.double({ noNaN: true, noDefaultInfinity: true })])(
    'are 0 or between 1e-130 and Number.MAX_SAFE_INTEGER in magnitude',
    (value) => {
      // Act
      const storable = numbersStorable({ list: [value] });

      // Assess
      const magnitude = Math.abs(value);
      expect(storable).toBe(magnitude === 0 || (magnitude >= 1e-130 && magnitude <= Number.MAX_SAFE_INTEGER));
      expect(isStorableNumber(value)).toBe(storable);
    },
  );
});

describe('metadataSchema', () => {
  it.each([
    ['nested deeper than METADATA_MAX_DEPTH', { x: nestedValue(METADATA_MAX_DEPTH) }, 'levels deep'],
    ['a number past Number.MAX_SAFE_INTEGER', { x: [2 ** 53] }, 'metadata numbers'],
    ['a number below DynamoDB’s smallest', { x: { y: 1e-200 } }, 'metadata numbers'],
  ])('refuses metadata %s', (_name, metadata, message) => {
    // Act
    const result = metadataSchema.safeParse(metadata);

    // Assess
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => issue.message).join()).toContain(message);
  });

  it('accepts metadata METADATA_MAX_DEPTH levels deep with storable numbers', () => {
    // Act
    const result = metadataSchema.safeParse({
      x: nestedValue(METADATA_MAX_DEPTH - 1),
      n: [0, -1.5, 1e-130, 2 ** 53 - 1],
    });

    // Assess
    expect(result.success).toBe(true);
  });
});
