import { describe, expect, it } from 'vitest';
import { encodeNumber, metadataIndexAttributes } from '../../shared/adapters/dynamo/metadata-index.ts';
import { metadataSlots } from '../../shared/config/metadata-index.ts';
import {
  type ChatFilter,
  matchesChat,
  matchesCondition,
  parseListChatsQuery,
  requireAnswerable,
} from '../../shared/domain/chat-filter.ts';
import { ValidationError } from '../../shared/domain/errors.ts';
import type { ChatRecord } from '../../shared/domain/schemas.ts';
import { chatRecord } from '../support/fixtures.ts';

const INDEXED = ['project_id', 'department', 'priority'];
const conditions = (query: Record<string, string>) => parseListChatsQuery(query).filter.metadata;
const refusal = (query: Record<string, string>) => {
  try {
    parseListChatsQuery(query);
  } catch (error) {
    return error;
  }
  throw new Error('expected a ValidationError');
};
const chat = (metadata: Record<string, unknown>, extra: Partial<ChatRecord> = {}): ChatRecord =>
  chatRecord('2026-11-21T10:00:00.000Z', {
    chatId: 'ch_00000000000000000001',
    metadata: metadata as ChatRecord['metadata'],
    ...extra,
  });

describe('parsing chat filters', () => {
  it('reads every operator with typed values, eq by default, and dotted nested keys', () => {
    // Prepare
    const query = {
      metadata__project_id: '123',
      'metadata__customer.tier': 'gold',
      metadata__a__ne: 'x',
      metadata__b__gt: '1.5',
      metadata__c__gte: '-2',
      metadata__d__lt: '1e3',
      metadata__e__lte: '0',
      metadata__f__between: '1,10',
      metadata__g__begins_with: 'ab',
      metadata__h__contains: 'needle',
      metadata__i__in: 'a,b,3',
      metadata__j__exists: 'false',
    };

    // Act
    const parsed = conditions(query);

    // Assess
    expect(parsed).toEqual([
      { key: 'project_id', op: 'eq', value: '123' },
      { key: 'customer.tier', op: 'eq', value: 'gold' },
      { key: 'a', op: 'ne', value: 'x' },
      { key: 'b', op: 'gt', value: 1.5 },
      { key: 'c', op: 'gte', value: -2 },
      { key: 'd', op: 'lt', value: 1000 },
      { key: 'e', op: 'lte', value: 0 },
      { key: 'f', op: 'between', value: [1, 10] },
      { key: 'g', op: 'begins_with', value: 'ab' },
      { key: 'h', op: 'contains', value: 'needle' },
      { key: 'i', op: 'in', value: ['a', 'b', '3'] },
      { key: 'j', op: 'exists', value: false },
    ]);
  });

  it('reads the standard fields, paging defaults and normalizes updatedAfter to UTC', () => {
    // Act
    const parsed = parseListChatsQuery({
      status: 'open',
      assignee: 'agent-1',
      participant: 'bob',
      updatedAfter: '2026-11-21T12:00:00+02:00',
      limit: '5',
      cursor: 'abc',
    });

    // Assess
    expect(parsed).toEqual({
      limit: 5,
      cursor: 'abc',
      filter: {
        metadata: [],
        status: 'open',
        assignee: 'agent-1',
        participant: 'bob',
        updatedAfter: '2026-11-21T10:00:00.000Z',
      },
    });
    expect(parseListChatsQuery(undefined)).toEqual({ limit: 20, filter: { metadata: [] } });
  });

  it.each([
    [{ metadata__x__like: 'a' }, 'unknown operator'],
    [{ metadata__x__between: '1' }, 'two numbers'],
    [{ metadata__x__between: '5,1' }, 'two numbers'],
    [{ metadata__x__between: 'a,b' }, 'two numbers'],
    [{ metadata__x__gt: 'ten' }, 'must be a number'],
    [{ metadata__x__lte: '' }, 'must be a number'],
    [{ metadata__x__in: 'a,,b' }, 'comma-separated'],
    [{ metadata__x__in: Array.from({ length: 21 }, (_, i) => String(i)).join(',') }, 'comma-separated'],
    [{ metadata__x__exists: 'yes' }, 'true or false'],
    [{ 'metadata__bad key': '1' }, 'metadata key'],
    [{ 'metadata__a..b': '1' }, 'metadata key'],
    [{ color: 'red' }, 'unknown parameter'],
    [{ status: 'pending' }, 'Invalid option'],
    [{ updatedAfter: 'yesterday' }, 'Invalid ISO datetime'],
  ])('refuses %j with a 400 that says why', (query, message) => {
    // Act
    const error = refusal(query as Record<string, string>);

    // Assess
    expect(error).toBeInstanceOf(ValidationError);
    expect(JSON.stringify((error as ValidationError).details)).toContain(message);
  });

  it('refuses a filter with no indexed key and no standard field, naming the indexed keys', () => {
    // Prepare
    const onlyOther: ChatFilter = { metadata: [{ key: 'color', op: 'eq', value: 'red' }] };
    const onlyNe: ChatFilter = { metadata: [{ key: 'project_id', op: 'ne', value: '1' }] };

    // Act + Assess
    for (const filter of [onlyOther, onlyNe]) {
      expect(() => requireAnswerable(filter, INDEXED)).toThrow(/project_id, department, priority/);
    }
    expect(() =>
      requireAnswerable({ metadata: [{ key: 'priority', op: 'gte', value: 2 }] }, INDEXED),
    ).not.toThrow();
    expect(() => requireAnswerable({ metadata: onlyOther.metadata, status: 'open' }, INDEXED)).not.toThrow();
    expect(() => requireAnswerable({ metadata: [] }, INDEXED)).not.toThrow();
  });
});

describe('matching chats against conditions', () => {
  it('compares numbers as numbers, whether metadata holds them as numbers or number text', () => {
    // Prepare
    const metadata = { priority: 10, code: '10.0', name: 'ten', customer: { tier: 'gold' } };

    // Act + Assess
    expect(matchesCondition(metadata, { key: 'priority', op: 'eq', value: '10.00' })).toBe(true);
    expect(matchesCondition(metadata, { key: 'code', op: 'eq', value: '10' })).toBe(true);
    expect(matchesCondition(metadata, { key: 'priority', op: 'gt', value: 9 })).toBe(true);
    expect(matchesCondition(metadata, { key: 'code', op: 'lt', value: 9 })).toBe(false);
    expect(matchesCondition(metadata, { key: 'priority', op: 'between', value: [10, 11] })).toBe(true);
    expect(matchesCondition(metadata, { key: 'name', op: 'gte', value: 0 })).toBe(false);
    expect(matchesCondition(metadata, { key: 'customer.tier', op: 'eq', value: 'gold' })).toBe(true);
    expect(matchesCondition(metadata, { key: 'customer.tier.x', op: 'exists', value: false })).toBe(true);
  });

  it('applies ne, in, contains, begins_with and exists, a missing value matching only exists=false', () => {
    // Prepare
    const metadata = { tags: ['vip', 2], note: 'call back tomorrow', dept: 'sales-eu' };

    // Act + Assess
    expect(matchesCondition(metadata, { key: 'dept', op: 'ne', value: 'sales' })).toBe(true);
    expect(matchesCondition(metadata, { key: 'missing', op: 'ne', value: 'sales' })).toBe(false);
    expect(matchesCondition(metadata, { key: 'dept', op: 'in', value: ['hr', 'sales-eu'] })).toBe(true);
    expect(matchesCondition(metadata, { key: 'tags', op: 'contains', value: 'vip' })).toBe(true);
    expect(matchesCondition(metadata, { key: 'tags', op: 'contains', value: '2' })).toBe(true);
    expect(matchesCondition(metadata, { key: 'note', op: 'contains', value: 'back' })).toBe(true);
    expect(matchesCondition(metadata, { key: 'dept', op: 'begins_with', value: 'sales' })).toBe(true);
    expect(matchesCondition(metadata, { key: 'tags', op: 'exists', value: true })).toBe(true);
    expect(matchesCondition(metadata, { key: 'nope', op: 'exists', value: true })).toBe(false);
  });

  it('checks status, assignee (missing never matches) and updatedAfter against lastActivityAt', () => {
    // Prepare
    const open = chat({}, { lastActivityAt: '2026-11-21T11:00:00.000Z' });

    // Act + Assess
    expect(matchesChat(open, { metadata: [], status: 'open' })).toBe(true);
    expect(matchesChat(open, { metadata: [], status: 'closed' })).toBe(false);
    expect(matchesChat(open, { metadata: [], assignee: 'agent-1' })).toBe(false);
    expect(matchesChat(open, { metadata: [], updatedAfter: '2026-11-21T10:59:59.000Z' })).toBe(true);
    expect(matchesChat(open, { metadata: [], updatedAfter: '2026-11-21T11:00:00.000Z' })).toBe(false);
  });
});

describe('metadata index attributes', () => {
  it('encodes numbers so that text order is number order', () => {
    // Prepare
    const numbers = [-1e300, -5.5, -1, -0.001, 0, 0.001, 1, 2, 10, 1e20];

    // Act
    const encoded = numbers.map(encodeNumber);

    // Assess
    expect([...encoded].sort()).toEqual(encoded);
    expect(encodeNumber(-0)).toBe(encodeNumber(0));
  });

  it('indexes scalar values of the configured keys only, numbers by value and text by text', () => {
    // Act
    const attributes = metadataIndexAttributes(
      'acme',
      'ch_1',
      { project_id: '123', department: { nested: true }, priority: 'high', other: 'x' },
      '2026-11-21T10:00:00.000Z',
      metadataSlots(INDEXED),
    );

    // Assess
    expect(attributes).toEqual({
      md1pk: 'MD#acme#project_id#123',
      md1sk: '2026-11-21T10:00:00.000Z#ch_1',
      mr1pk: 'MDR#acme#project_id',
      mr1sk: `N#${encodeNumber(123)}#ch_1`,
      md3pk: 'MD#acme#priority#high',
      md3sk: '2026-11-21T10:00:00.000Z#ch_1',
      mr3pk: 'MDR#acme#priority',
      mr3sk: 'S#high#ch_1',
    });
  });
});
