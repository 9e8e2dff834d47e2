/** The indexed metadata keys as configuration: one parser for the environment, CDK context and --keys. */
import { describe, expect, it } from 'vitest';
import { parseEnv } from '../../shared/config/env.ts';
import {
  DEFAULT_INDEXED_METADATA_KEYS,
  MAX_INDEXED_METADATA_KEYS,
  parseIndexedMetadataKeys,
} from '../../shared/config/metadata-index.ts';
import { tableDefinitionFor } from '../../shared/config/table.ts';
import { parseListChatsQuery } from '../../shared/domain/chat-filter.ts';

const BASE_ENV = {
  TABLE_NAME: 'chat-table',
  WS_MANAGEMENT_ENDPOINT: 'https://ws.example.com/prod',
  WS_PUBLIC_URL: 'wss://ws.example.com/prod',
  AUTH_ISSUER: 'https://id.example.com/',
  AUTH_AUDIENCE: 'chat',
  AUTH_JWKS_URL: 'https://id.example.com/jwks.json',
  VISITOR_SECRET: 'v'.repeat(32),
  ATTACHMENTS_BUCKET: 'chat-attachments',
};

const problem = (value: unknown): string => {
  try {
    parseIndexedMetadataKeys(value, 'KEYS');
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
};

describe('indexed metadata keys', () => {
  it('parses comma-separated text and lists, trimmed, in order, with dotted nested keys', () => {
    // Act
    const fromText = parseIndexedMetadataKeys(' region , customer.tier,priority ', 'KEYS');
    const fromList = parseIndexedMetadataKeys(['region', 'customer.tier'], 'KEYS');

    // Assess
    expect(fromText).toEqual(['region', 'customer.tier', 'priority']);
    expect(fromList).toEqual(['region', 'customer.tier']);
  });

  it('accepts exactly the keys the filter parser accepts', () => {
    // Prepare: a key the filter parser takes, and one it refuses
    const accepted = 'customer-2.tier_x';
    const refused = 'customer tier';

    // Act
    const filter = parseListChatsQuery({ [`metadata__${accepted}`]: 'gold' }).filter;

    // Assess
    expect(filter.metadata[0]?.key).toBe(accepted);
    expect(parseIndexedMetadataKeys(accepted, 'KEYS')).toEqual([accepted]);
    expect(() => parseListChatsQuery({ [`metadata__${refused}`]: 'gold' })).toThrow();
    expect(problem(refused)).toMatch(/"customer tier" is not a metadata key/);
  });

  it('refuses duplicates, empty entries, bad segments and more than the maximum, naming the source', () => {
    // Prepare
    const tooMany = Array.from({ length: MAX_INDEXED_METADATA_KEYS + 1 }, (_, i) => `k${i}`).join(',');

    // Act + Assess
    expect(problem('a,b,a')).toBe('KEYS: "a" is listed twice');
    expect(problem('a,,b')).toBe(
      'KEYS: "" is not a metadata key (dot-separated segments of 1 to 64 letters, digits, _ and -)',
    );
    expect(problem('')).toMatch(/^KEYS: "" is not a metadata key/);
    expect(problem('a..b')).toMatch(/"a\.\.b" is not a metadata key/);
    expect(problem('x'.repeat(65))).toMatch(/is not a metadata key/);
    expect(problem([])).toBe(
      `KEYS: must list 1 to ${MAX_INDEXED_METADATA_KEYS} keys (each takes two GSIs), got 0`,
    );
    expect(problem(tooMany)).toMatch(new RegExp(`must list 1 to ${MAX_INDEXED_METADATA_KEYS} keys.*got 9`));
    expect(problem(42)).toMatch(/^KEYS: must be comma-separated text or a list of keys/);
  });

  it('is INDEXED_METADATA_KEYS of the functions, defaulting to the three default keys', () => {
    // Act
    const unset = parseEnv(BASE_ENV);
    const set = parseEnv({ ...BASE_ENV, INDEXED_METADATA_KEYS: 'department,region' });

    // Assess
    expect(unset.INDEXED_METADATA_KEYS).toEqual(['project_id', 'department', 'priority']);
    expect(DEFAULT_INDEXED_METADATA_KEYS).toEqual(['project_id', 'department', 'priority']);
    expect(set.INDEXED_METADATA_KEYS).toEqual(['department', 'region']);
  });

  it('fails the cold start on an invalid INDEXED_METADATA_KEYS with a message naming it', () => {
    // Act
    const invalid = () => parseEnv({ ...BASE_ENV, INDEXED_METADATA_KEYS: 'region,region' });

    // Assess
    expect(invalid).toThrow('invalid configuration: INDEXED_METADATA_KEYS: "region" is listed twice');
  });

  it('gives each key two GSIs in slot order, or the last key only its equality GSI', () => {
    // Act
    const metadataIndexes = (keys: string[], lastKeyEqualityOnly = false) =>
      tableDefinitionFor(keys, { lastKeyEqualityOnly })
        .globalIndexes.filter((index) => index.indexName.startsWith('byMeta'))
        .map((index) => `${index.indexName}(${index.partitionKey},${index.sortKey})`);

    // Assess
    expect(metadataIndexes(['a', 'b'])).toEqual([
      'byMeta1(md1pk,md1sk)',
      'byMetaRange1(mr1pk,mr1sk)',
      'byMeta2(md2pk,md2sk)',
      'byMetaRange2(mr2pk,mr2sk)',
    ]);
    expect(metadataIndexes(['a', 'b', 'c'], true)).toEqual([
      'byMeta1(md1pk,md1sk)',
      'byMetaRange1(mr1pk,mr1sk)',
      'byMeta2(md2pk,md2sk)',
      'byMetaRange2(mr2pk,mr2sk)',
      'byMeta3(md3pk,md3sk)',
    ]);
  });
});
