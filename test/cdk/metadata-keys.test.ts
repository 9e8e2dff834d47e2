/**
 * The indexed metadata keys as CDK context: one value builds the table's metadata GSIs and the
 * functions' INDEXED_METADATA_KEYS, so the two cannot drift. Synthesized like test/cdk/stack.test.ts
 * (stub handlers, no bundling), without the cdk-nag packs (that file runs them).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../support/temp-dir.ts';
import { buildApp } from '../../infra/build-app.ts';
import { App, Stack } from 'aws-cdk-lib';
import { ConfigError, readConfig } from '../../infra/constructs/config.ts';
import { ChatData } from '../../infra/constructs/data.ts';
import { bucketConsumers, httpRoutes, streamConsumers, wsRoutes } from '../../shared/config/routes.ts';

interface Index {
  IndexName: string;
  KeySchema: { AttributeName: string; KeyType: string }[];
  Projection: { ProjectionType: string };
}

const tempDir = tempDirs();

/** A throwaway project root holding a stub for every handler of the route table. */
const STUB_ROOT = (() => {
  const root = tempDir('chat-cdk-keys-');
  for (const route of [...httpRoutes, ...wsRoutes, ...streamConsumers, ...bucketConsumers]) {
    const file = join(root, route.handler);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'export const handler = async () => ({ statusCode: 200 });\n');
  }
  writeFileSync(join(root, 'package-lock.json'), '{}\n');
  return root;
})();

const CONTEXT = {
  'aws:cdk:bundling-stacks': [],
  '@aws-cdk/core:appMode': 'inmemory',
  auth: { issuer: 'https://id.example.org/', audience: 'chat', jwksUrl: 'https://id.example.org/jwks.json' },
};

const metadataIndexesOf = (template: Template) => {
  const [table] = Object.values(template.findResources('AWS::DynamoDB::Table'));
  const indexes = (table?.Properties as { GlobalSecondaryIndexes: Index[] }).GlobalSecondaryIndexes;
  const metadataIndexes = indexes
    .filter((index) => index.IndexName.startsWith('byMeta'))
    .map((index) => ({
      name: index.IndexName,
      keys: index.KeySchema.map((key) => `${key.AttributeName}:${key.KeyType}`),
      projection: index.Projection.ProjectionType,
    }));
  return { indexes, metadataIndexes };
};

/** The whole stack: the table's GSIs and every function's environment. */
const synth = (context: Record<string, unknown> = {}) => {
  const { stack } = buildApp({
    projectRoot: STUB_ROOT,
    outdir: tempDir('chat-cdk-keys-out-'),
    nag: false,
    context: { ...CONTEXT, ...context },
  });
  const template = Template.fromStack(stack);
  const environments = Object.values(template.findResources('AWS::Lambda::Function'))
    .map(
      (fn) =>
        (fn.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables,
    )
    .filter((variables): variables is Record<string, unknown> => variables?.TABLE_NAME !== undefined);
  return { stack, ...metadataIndexesOf(template), environments };
};

/**
 * The stateful part only, configured from the same context as the stack (readConfig → ChatData): the
 * GSIs and the keys the stack gives every function (`ChatData.indexedMetadataKeys`, the environments
 * above), a tenth of a whole synthesis for the many-step deploy sequences.
 */
const synthData = (context: Record<string, unknown> = {}) => {
  const app = new App({ outdir: tempDir('chat-cdk-keys-out-'), context: { ...CONTEXT, ...context } });
  const stack = new Stack(app, 'Keys');
  const config = readConfig(stack);
  const data = new ChatData(stack, 'Data', {
    corsOrigins: config.corsOrigins,
    indexedMetadataKeys: config.indexedMetadataKeys,
    pendingMetadataKey: config.pendingMetadataKey,
  });
  return {
    ...metadataIndexesOf(Template.fromStack(stack)),
    functionKeys: data.indexedMetadataKeys.join(','),
  };
};

const slotIndexes = (slot: number) => [
  { name: `byMeta${slot}`, keys: [`md${slot}pk:HASH`, `md${slot}sk:RANGE`], projection: 'KEYS_ONLY' },
  { name: `byMetaRange${slot}`, keys: [`mr${slot}pk:HASH`, `mr${slot}sk:RANGE`], projection: 'KEYS_ONLY' },
];

const synthError = (context: Record<string, unknown>): Error => {
  try {
    synth(context);
  } catch (error) {
    return error as Error;
  }
  throw new Error(`synthesis with ${JSON.stringify(context)} should have failed`);
};

describe('indexed metadata keys (CDK context indexedMetadataKeys)', () => {
  it('defaults to the three default keys: six metadata GSIs, and the keys on every function', () => {
    // Act
    const { stack, indexes, metadataIndexes, environments } = synth();

    // Assess
    expect(metadataIndexes).toEqual([...slotIndexes(1), ...slotIndexes(2), ...slotIndexes(3)]);
    expect(indexes.map((index) => index.IndexName)).toEqual(
      expect.arrayContaining(['byParticipant', 'byTenant', 'byTenantChanges']),
    );
    expect(indexes).toHaveLength(9);
    expect(environments).toHaveLength(stack.functions.size);
    for (const variables of environments)
      expect(variables.INDEXED_METADATA_KEYS).toBe('project_id,department,priority');
  });

  it('builds two GSIs per key of an override, and gives the functions exactly those keys', () => {
    // Act
    const { stack, metadataIndexes, environments } = synth({ indexedMetadataKeys: 'a,b' });

    // Assess
    expect(metadataIndexes).toEqual([...slotIndexes(1), ...slotIndexes(2)]);
    expect(environments).toHaveLength(stack.functions.size);
    for (const variables of environments) expect(variables.INDEXED_METADATA_KEYS).toBe('a,b');
  });

  it('takes the keys as a list too (cdk.json context), nested keys included', () => {
    // Act
    const { metadataIndexes, environments } = synth({ indexedMetadataKeys: ['region', 'customer.tier'] });

    // Assess
    expect(metadataIndexes).toHaveLength(4);
    expect(new Set(environments.map((variables) => variables.INDEXED_METADATA_KEYS))).toEqual(
      new Set(['region,customer.tier']),
    );
  });

  it('with pendingMetadataKey=1, gives the last key only its equality GSI and keeps it from the functions', () => {
    // Act
    const { metadataIndexes, environments } = synth({
      indexedMetadataKeys: 'a,b,c',
      pendingMetadataKey: '1',
    });

    // Assess
    expect(metadataIndexes).toEqual([...slotIndexes(1), ...slotIndexes(2), slotIndexes(3)[0]]);
    expect(new Set(environments.map((variables) => variables.INDEXED_METADATA_KEYS))).toEqual(
      new Set(['a,b']),
    );
  });

  it('with pendingMetadataKey=2, gives the last key both GSIs and still keeps it from the functions', () => {
    // Act
    const { metadataIndexes, functionKeys } = synthData({
      indexedMetadataKeys: ['a', 'b', 'c'],
      pendingMetadataKey: 2,
    });

    // Assess
    expect(metadataIndexes).toEqual([...slotIndexes(1), ...slotIndexes(2), ...slotIndexes(3)]);
    expect(functionKeys).toBe('a,b');
  });

  it.each([
    [
      'adding a key',
      [
        { indexedMetadataKeys: 'a,b,c' },
        { indexedMetadataKeys: 'a,b,c,d', pendingMetadataKey: 1 },
        { indexedMetadataKeys: 'a,b,c,d', pendingMetadataKey: 2 },
        { indexedMetadataKeys: 'a,b,c,d' },
      ],
    ],
    [
      'removing the last key',
      [
        { indexedMetadataKeys: 'a,b,c' },
        { indexedMetadataKeys: 'a,b,c', pendingMetadataKey: 2 },
        { indexedMetadataKeys: 'a,b,c', pendingMetadataKey: 1 },
        { indexedMetadataKeys: 'a,b' },
      ],
    ],
    [
      'removing a middle key (the last one moves into its slot)',
      [
        { indexedMetadataKeys: 'a,b,c' },
        { indexedMetadataKeys: 'a,c,b', pendingMetadataKey: 2 },
        { indexedMetadataKeys: 'a,c,b', pendingMetadataKey: 1 },
        { indexedMetadataKeys: 'a,c' },
      ],
    ],
    ['replacing a key', [{ indexedMetadataKeys: 'a,b,c' }, { indexedMetadataKeys: 'a,b,d' }]],
  ])('%s (docs/deploy.md): each deploy creates or deletes at most one GSI', (_, steps) => {
    // Act
    const synthesized = steps.map((context) => synthData(context));

    // Assess
    for (let i = 1; i < synthesized.length; i++) {
      const before = new Set(synthesized[i - 1]?.metadataIndexes.map((index) => index.name));
      const after = new Set(synthesized[i]?.metadataIndexes.map((index) => index.name));
      const changed = [...before, ...after].filter((name) => before.has(name) !== after.has(name));
      expect(changed.length, `step ${i}: ${changed.join(', ')}`).toBeLessThanOrEqual(1);
    }
    for (const { metadataIndexes, functionKeys } of synthesized) {
      const names = new Set(metadataIndexes.map((index) => index.name));
      const keys = functionKeys.split(',');
      keys.forEach((_key, i) => {
        expect(names.has(`byMeta${i + 1}`) && names.has(`byMetaRange${i + 1}`)).toBe(true);
      });
    }
  });

  it.each([
    [
      'a,a',
      /^Invalid CDK context: "indexedMetadataKeys": "a" is listed twice \(e\.g\. -c indexedMetadataKeys=/,
    ],
    ['a,b c', /"indexedMetadataKeys": "b c" is not a metadata key \(dot-separated segments/],
    ['a,,b', /"indexedMetadataKeys": "" is not a metadata key/],
    [
      'k1,k2,k3,k4,k5,k6,k7,k8,k9',
      /"indexedMetadataKeys": must list 1 to 8 keys \(each takes two GSIs\), got 9/,
    ],
    ['[1,2]', /"indexedMetadataKeys": must be comma-separated text or a list of keys/],
  ])('fails synthesis on indexedMetadataKeys=%s with a clear message', (value, message) => {
    // Act
    const error = synthError({ indexedMetadataKeys: value });

    // Assess
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(message);
  });

  it('fails synthesis on a pending key without another key to keep, and on a pendingMetadataKey other than 1 or 2', () => {
    // Act
    const alone = synthError({ indexedMetadataKeys: 'a', pendingMetadataKey: '1' });
    const unknown = synthError({ indexedMetadataKeys: 'a,b', pendingMetadataKey: 'true' });

    // Assess
    expect(alone).toBeInstanceOf(ConfigError);
    expect(alone.message).toMatch(/"pendingMetadataKey" needs at least two "indexedMetadataKeys"/);
    expect(unknown).toBeInstanceOf(ConfigError);
    expect(unknown.message).toMatch(/"pendingMetadataKey" must be 1 .* or 2 .*, got "true"/);
  });
});
