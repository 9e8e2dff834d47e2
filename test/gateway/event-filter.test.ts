import { describe, expect, it } from 'vitest';
import {
  InvalidFilterPatternError,
  matchesAnyFilter,
  matchesFilter,
  validateFilterPattern,
} from '../../infra/local/event-filter.ts';
import { streamConsumers } from '../../shared/config/routes.ts';

const record = (overrides: Record<string, unknown> = {}) => ({
  eventID: '1',
  eventName: 'INSERT',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1',
  dynamodb: {
    ApproximateCreationDateTime: 1_700_000_000,
    Keys: { pk: { S: 'CHAT#1' }, sk: { S: 'MSG#0001' } },
    NewImage: {
      pk: { S: 'CHAT#1' },
      sk: { S: 'MSG#0001' },
      entity: { S: 'message' },
      tags: { SS: ['a', 'b'] },
      text: { S: 'Hello World' },
    },
    SequenceNumber: '100',
    SizeBytes: 42,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
  ...overrides,
});

describe('event filter: exact values', () => {
  it('matches when a leaf equals one of the listed values', () => {
    // Prepare
    const pattern = { eventName: ['MODIFY', 'INSERT'] };
    // Act
    const matched = matchesFilter(pattern, record());
    // Assess
    expect(matched).toBe(true);
  });

  it('rejects when the leaf equals none of the listed values', () => {
    expect(matchesFilter({ eventName: ['REMOVE'] }, record())).toBe(false);
  });

  it('descends into nested objects and requires every key to match', () => {
    // Prepare
    const pattern = { eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['message'] } } } };
    // Act / Assess
    expect(matchesFilter(pattern, record())).toBe(true);
    expect(matchesFilter(pattern, record({ eventName: 'MODIFY' }))).toBe(false);
    expect(
      matchesFilter({ ...pattern, dynamodb: { NewImage: { entity: { S: ['connection'] } } } }, record()),
    ).toBe(false);
  });

  it('fails a nested pattern when the path is missing from the record', () => {
    expect(matchesFilter({ dynamodb: { OldImage: { entity: { S: ['message'] } } } }, record())).toBe(false);
  });

  it('compares numbers numerically and never matches a string against a number', () => {
    expect(matchesFilter({ dynamodb: { SizeBytes: [42] } }, record())).toBe(true);
    expect(matchesFilter({ dynamodb: { SizeBytes: ['42'] } }, record())).toBe(false);
  });

  it('matches an array value when any element matches', () => {
    expect(matchesFilter({ dynamodb: { NewImage: { tags: { SS: ['b'] } } } }, record())).toBe(true);
    expect(matchesFilter({ dynamodb: { NewImage: { tags: { SS: ['c'] } } } }, record())).toBe(false);
  });

  it('does not match a leaf matcher against an object', () => {
    expect(matchesFilter({ dynamodb: { NewImage: { entity: ['message'] } } }, record())).toBe(false);
  });
});

describe('event filter: operators', () => {
  it('exists: true matches a present leaf and exists: false an absent one', () => {
    // Prepare
    const present = { dynamodb: { NewImage: { text: { S: [{ exists: true }] } } } };
    const absent = { dynamodb: { NewImage: { deletedAt: { S: [{ exists: false }] } } } };
    // Act / Assess
    expect(matchesFilter(present, record())).toBe(true);
    expect(matchesFilter(absent, record())).toBe(true);
    expect(matchesFilter({ dynamodb: { NewImage: { text: { S: [{ exists: false }] } } } }, record())).toBe(
      false,
    );
    expect(matchesFilter({ dynamodb: { NewImage: { nope: { S: [{ exists: true }] } } } }, record())).toBe(
      false,
    );
  });

  it('exists: false matches when a whole parent object is missing', () => {
    expect(matchesFilter({ dynamodb: { OldImage: { entity: { S: [{ exists: false }] } } } }, record())).toBe(
      true,
    );
  });

  it('prefix matches the start of a string only', () => {
    expect(matchesFilter({ dynamodb: { Keys: { pk: { S: [{ prefix: 'CHAT#' }] } } } }, record())).toBe(true);
    expect(matchesFilter({ dynamodb: { Keys: { pk: { S: [{ prefix: 'USER#' }] } } } }, record())).toBe(false);
    expect(matchesFilter({ dynamodb: { SizeBytes: [{ prefix: '4' }] } }, record())).toBe(false);
  });

  it('suffix and equals-ignore-case compare strings', () => {
    expect(matchesFilter({ dynamodb: { NewImage: { text: { S: [{ suffix: 'World' }] } } } }, record())).toBe(
      true,
    );
    expect(
      matchesFilter(
        { dynamodb: { NewImage: { text: { S: [{ 'equals-ignore-case': 'hello world' }] } } } },
        record(),
      ),
    ).toBe(true);
  });

  it('anything-but excludes the listed values and requires the field to exist', () => {
    expect(matchesFilter({ eventName: [{ 'anything-but': ['REMOVE', 'MODIFY'] }] }, record())).toBe(true);
    expect(matchesFilter({ eventName: [{ 'anything-but': ['INSERT'] }] }, record())).toBe(false);
    expect(matchesFilter({ eventName: [{ 'anything-but': 'INSERT' }] }, record())).toBe(false);
    expect(matchesFilter({ missing: [{ 'anything-but': ['x'] }] }, record())).toBe(false);
    expect(
      matchesFilter(
        { dynamodb: { Keys: { pk: { S: [{ 'anything-but': { prefix: 'CHAT#' } }] } } } },
        record(),
      ),
    ).toBe(false);
  });

  it('numeric compares with one or two bounds', () => {
    expect(matchesFilter({ dynamodb: { SizeBytes: [{ numeric: ['>', 0, '<=', 42] }] } }, record())).toBe(
      true,
    );
    expect(matchesFilter({ dynamodb: { SizeBytes: [{ numeric: ['<', 42] }] } }, record())).toBe(false);
    expect(matchesFilter({ dynamodb: { SizeBytes: [{ numeric: ['=', 42] }] } }, record())).toBe(true);
    expect(matchesFilter({ dynamodb: { SizeBytes: [{ numeric: ['>=', 43] }] } }, record())).toBe(false);
  });

  it('numeric never matches a DynamoDB N attribute, which is a JSON string', () => {
    // Prepare
    const withNumber = record({
      dynamodb: { NewImage: { count: { N: '5' } } },
    });
    // Act / Assess
    expect(
      matchesFilter({ dynamodb: { NewImage: { count: { N: [{ numeric: ['>', 1] }] } } } }, withNumber),
    ).toBe(false);
    expect(matchesFilter({ dynamodb: { NewImage: { count: { N: ['5'] } } } }, withNumber)).toBe(true);
  });

  it('wildcard matches a glob', () => {
    expect(matchesFilter({ dynamodb: { Keys: { sk: { S: [{ wildcard: 'MSG#*1' }] } } } }, record())).toBe(
      true,
    );
    expect(matchesFilter({ dynamodb: { Keys: { sk: { S: [{ wildcard: 'MSG#*2' }] } } } }, record())).toBe(
      false,
    );
  });

  it('a leaf list mixing values and operators matches if any entry matches', () => {
    expect(matchesFilter({ eventName: ['REMOVE', { prefix: 'INS' }] }, record())).toBe(true);
  });
});

describe('event filter: pattern lists and validation', () => {
  it('ORs several patterns and lets everything through when there are none', () => {
    // Prepare
    const patterns = [{ eventName: ['REMOVE'] }, { eventName: ['INSERT'] }];
    // Act / Assess
    expect(matchesAnyFilter(patterns, record())).toBe(true);
    expect(matchesAnyFilter([{ eventName: ['REMOVE'] }], record())).toBe(false);
    expect(matchesAnyFilter([], record())).toBe(true);
  });

  it('rejects bare (unwrapped) values, empty lists and unknown operators', () => {
    expect(() => validateFilterPattern({ eventName: 'INSERT' })).toThrow(InvalidFilterPatternError);
    expect(() => validateFilterPattern({ eventName: [] })).toThrow(InvalidFilterPatternError);
    expect(() => validateFilterPattern({ eventName: [{ bogus: 1 }] })).toThrow(InvalidFilterPatternError);
    expect(() => validateFilterPattern({ size: [{ numeric: ['>', 'x'] }] })).toThrow(
      InvalidFilterPatternError,
    );
  });

  it('accepts every filter in the route table and routes message inserts to the fan-out only', () => {
    // Prepare
    for (const consumer of streamConsumers)
      for (const filter of consumer.filters) validateFilterPattern(filter);
    const fanout = streamConsumers.find((consumer) => consumer.name === 'fanout');
    const ready = streamConsumers.find((consumer) => consumer.name === 'connections');
    // Act / Assess
    expect(matchesAnyFilter(fanout?.filters ?? [], record())).toBe(true);
    expect(matchesAnyFilter(ready?.filters ?? [], record())).toBe(false);
    expect(matchesAnyFilter(fanout?.filters ?? [], record({ eventName: 'MODIFY' }))).toBe(false);
  });
});
