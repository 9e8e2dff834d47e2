/** The metadata backfill's plan per chat item, its command line, and its handling of throttling. */
import {
  ConditionalCheckFailedException,
  ProvisionedThroughputExceededException,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  MAX_SEGMENTS,
  parseBackfillArgs,
  runBackfillCli,
  USAGE,
  UsageError,
} from '../../infra/backfill-metadata-cli.ts';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import {
  backfillMetadata,
  planSlotUpdate,
  slotUpdateInput,
} from '../../shared/adapters/dynamo/metadata-backfill.ts';
import { chatItem, encodeNumber } from '../../shared/adapters/dynamo/metadata-index.ts';
import { metadataSlots } from '../../shared/config/metadata-index.ts';
import type { ChatRecord } from '../../shared/domain/schemas.ts';

const AT = '2026-11-21T10:00:00.000Z';
const OLD = metadataSlots(['project_id', 'department']);
const NEW = metadataSlots(['department', 'region']);
const chat = (metadata: Record<string, unknown>, extra: Partial<ChatRecord> = {}): ChatRecord => ({
  chatId: 'ch_1',
  tenantId: 'acme',
  metadata: metadata as ChatRecord['metadata'],
  status: 'open',
  createdBy: 'alice',
  createdAt: AT,
  updatedAt: AT,
  lastActivityAt: AT,
  lastSeq: 0,
  ...extra,
});

describe('planSlotUpdate', () => {
  it('moves a key to its new slot and indexes a new key', () => {
    // Prepare: written under [project_id, department]
    const item = chatItem(chat({ project_id: 'p1', department: 'sales', region: 'eu' }), OLD);

    // Act
    const update = planSlotUpdate(item, NEW);

    // Assess
    expect(update).toEqual({
      set: {
        md1pk: 'MD#acme#department#sales',
        mr1pk: 'MDR#acme#department',
        mr1sk: 'S#sales#ch_1',
        md2pk: 'MD#acme#region#eu',
        mr2pk: 'MDR#acme#region',
        mr2sk: 'S#eu#ch_1',
        // md1sk and md2sk hold the activity position, whatever the key: already right
      },
      remove: [],
    });
  });

  it('removes the attributes of a key no longer indexed, of slots beyond the key count and of non-scalar values', () => {
    // Prepare: three slots written; department has since become an object
    const item = {
      ...chatItem(
        chat({ project_id: 7, department: 'legal', priority: 2 }),
        metadataSlots(['project_id', 'department', 'priority']),
      ),
      metadata: { project_id: 7, department: { name: 'legal' }, priority: 2 },
    };

    // Act
    const update = planSlotUpdate(item, NEW);

    // Assess
    expect(update?.set).toEqual({});
    expect(update?.remove).toEqual([
      'md1pk',
      'md1sk',
      'mr1pk',
      'mr1sk',
      'md2pk',
      'md2sk',
      'mr2pk',
      'mr2sk',
      'md3pk',
      'md3sk',
      'mr3pk',
      'mr3sk',
    ]);
  });

  it('changes nothing on an item written for the same keys', () => {
    // Prepare
    const item = chatItem(chat({ department: 'sales', region: 3, other: 'x' }), NEW);

    // Act
    const update = planSlotUpdate(item, NEW);

    // Assess
    expect(update).toEqual({ set: {}, remove: [] });
    expect(item.mr2sk).toBe(`N#${encodeNumber(3)}#ch_1`);
  });

  it('leaves an equality sort key that touchActivity would leave, and moves one it would move', () => {
    // Prepare: the list position trails lastActivityAt by 9 s in one chat, by 11 s in another
    const item = chatItem(chat({ department: 'sales' }), NEW);
    const at = (ms: number) => `${new Date(Date.parse(AT) + ms).toISOString()}#ch_1`;
    const within = { ...item, lastActivityAt: at(9_000).split('#')[0] };
    const beyond = { ...item, lastActivityAt: at(11_000).split('#')[0] };

    // Act
    const kept = planSlotUpdate(within, NEW);
    const moved = planSlotUpdate(beyond, NEW);

    // Assess
    expect(kept).toEqual({ set: {}, remove: [] });
    expect(moved).toEqual({ set: { md1sk: at(11_000) }, remove: [] });
  });

  it('skips items that are not well-formed chats', () => {
    expect(planSlotUpdate({ pk: 'CHAT#x', sk: 'CHAT', tenantId: 'acme' }, NEW)).toBeUndefined();
    expect(planSlotUpdate({ chatId: 'x', tenantId: 'acme', lastActivityAt: 'soon' }, NEW)).toBeUndefined();
  });
});

describe('slotUpdateInput', () => {
  it('sets and removes in one update conditioned on the item being as read', () => {
    // Prepare
    const item = { ...chatItem(chat({ project_id: 'p1' }, { lastEventSeq: 4 }), OLD), mr2pk: 'stale' };
    const update = { set: { md2pk: 'MD#acme#region#eu' }, remove: ['mr2pk'] };

    // Act
    const input = slotUpdateInput('t', item, update);

    // Assess
    expect(input).toEqual({
      TableName: 't',
      Key: { pk: 'CHAT#ch_1', sk: 'CHAT' },
      UpdateExpression: 'SET #a0 = :n0 REMOVE #a1',
      ConditionExpression:
        'attribute_exists(pk) AND #lat = :lat AND #les = :les AND attribute_not_exists(#a0) AND #a1 = :o1',
      ExpressionAttributeNames: {
        '#lat': 'lastActivityAt',
        '#les': 'lastEventSeq',
        '#a0': 'md2pk',
        '#a1': 'mr2pk',
      },
      ExpressionAttributeValues: { ':lat': AT, ':les': 4, ':o1': 'stale', ':n0': 'MD#acme#region#eu' },
    });
  });

  it('requires lastEventSeq to be still absent when it was absent', () => {
    const input = slotUpdateInput('t', chatItem(chat({})), { set: { md1pk: 'x' }, remove: [] });

    expect(input.ConditionExpression).toContain('attribute_not_exists(#les)');
    expect(input.ExpressionAttributeValues).not.toHaveProperty(':les');
  });
});

describe('backfillMetadata against a mocked table', () => {
  const ddb = mockClient(DynamoDBDocumentClient);
  const table = createTableContext('chat-test', undefined, 'eu-west-1');
  beforeEach(() => ddb.reset());
  const throttled = () => new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });

  it('backs off and retries throttled scans and updates', async () => {
    // Prepare
    const item = chatItem(chat({ department: 'sales' }), OLD);
    ddb
      .on(ScanCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(throttled())
      .resolves({ Items: [item] });
    ddb.on(UpdateCommand).rejectsOnce(throttled()).resolves({});
    const waits: number[] = [];

    // Act
    const counts = await backfillMetadata(table, {
      keys: ['department', 'region'],
      segments: 1,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });

    // Assess
    expect(counts).toMatchObject({ scanned: 1, updated: 1, throttled: 3, retried: 0, failed: 0 });
    expect(waits).toHaveLength(3);
    expect(waits[1]).toBeGreaterThan(waits[0] ?? Infinity);
    expect(ddb).toHaveReceivedNthCommandWith(
      ScanCommand,
      1,
      expect.objectContaining({
        Segment: 0,
        TotalSegments: 1,
        FilterExpression: '#entity = :chat',
        ExpressionAttributeValues: expect.objectContaining({ ':chat': 'chat' }),
      }),
    );
  });

  it('gives up on a throttled request after maxThrottleAttempts and reports the error', async () => {
    ddb.on(ScanCommand).rejects(throttled());

    const run = backfillMetadata(table, {
      keys: ['a'],
      segments: 1,
      maxThrottleAttempts: 3,
      sleep: async () => {},
    });

    await expect(run).rejects.toThrow('slow down');
    expect(ddb).toHaveReceivedCommandTimes(ScanCommand, 3);
  });

  it('re-reads a chat whose conditional update lost, and plans again from what it read', async () => {
    // Prepare: the metadata changed between the scan and the update
    const scanned = chatItem(chat({ department: 'sales' }, { lastEventSeq: 1 }), OLD);
    const changed = chatItem(chat({ department: 'support' }, { lastEventSeq: 2 }), OLD);
    ddb.on(ScanCommand).resolves({ Items: [scanned] });
    ddb
      .on(UpdateCommand)
      .rejectsOnce(new ConditionalCheckFailedException({ message: 'changed', $metadata: {} }))
      .resolves({});
    ddb.on(GetCommand).resolves({ Item: changed });

    // Act
    const counts = await backfillMetadata(table, { keys: ['department'], segments: 1 });

    // Assess
    expect(counts).toMatchObject({ scanned: 1, updated: 1, retried: 1, failed: 0 });
    expect(ddb).toHaveReceivedNthCommandWith(
      GetCommand,
      1,
      expect.objectContaining({ ConsistentRead: true }),
    );
    const last = ddb.commandCalls(UpdateCommand)[1]?.args[0].input;
    expect(Object.values(last?.ExpressionAttributeValues ?? {})).toContain('MD#acme#department#support');
    expect(last?.ExpressionAttributeValues?.[':les']).toBe(2);
  });
});

describe('backfill-metadata command line', () => {
  it('parses every flag', () => {
    // Act
    const args = parseBackfillArgs(
      [
        '--table',
        'chat',
        '--endpoint',
        'http://127.0.0.1:8000',
        '--region',
        'eu-west-1',
        '--keys',
        'department,region',
        '--dry-run',
        '--segments',
        '8',
      ],
      {},
    );

    // Assess
    expect(args).toEqual({
      table: 'chat',
      endpoint: 'http://127.0.0.1:8000',
      region: 'eu-west-1',
      keys: ['department', 'region'],
      keysFrom: '--keys',
      dryRun: true,
      segments: 8,
    });
  });

  it('takes the keys from INDEXED_METADATA_KEYS, else the defaults, and says which', () => {
    expect(parseBackfillArgs(['--table', 't'], { INDEXED_METADATA_KEYS: 'region' })).toMatchObject({
      keys: ['region'],
      keysFrom: 'INDEXED_METADATA_KEYS',
      dryRun: false,
      segments: 4,
    });
    expect(parseBackfillArgs(['--table', 't'], {})).toMatchObject({
      keys: ['project_id', 'department', 'priority'],
      keysFrom: 'default',
    });
  });

  it.each([
    [['--keys', 'a'], '--table NAME is required'],
    [['--table', 't', '--tabel', 'x'], "Unknown option '--tabel'"],
    [['--table'], "Option '--table <value>' argument missing"],
    [['--table', 't', 'extra'], "Unexpected argument 'extra'"],
    [
      ['--table', 't', '--segments', '0'],
      `--segments must be a whole number from 1 to ${MAX_SEGMENTS}, got "0"`,
    ],
    [['--table', 't', '--segments', '2.5'], '--segments must be a whole number'],
    [['--table', 't', '--keys', 'a,a'], '--keys: "a" is listed twice'],
    [['--table', 't', '--keys', 'a b'], '--keys: "a b" is not a metadata key'],
    [['--table', 't', '--endpoint', 'localhost'], '--endpoint must be a URL, got "localhost"'],
    [['--table', 't', '--region', 'Europe'], '--region must be an AWS region like eu-west-1'],
  ])('refuses %j with a clear message', (argv, message) => {
    // Act
    let error: unknown;
    try {
      parseBackfillArgs(argv, {});
    } catch (caught) {
      error = caught;
    }

    // Assess
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toContain(message);
  });

  it('exits with 2 and prints the error and usage on stderr for bad flags, touching no table', async () => {
    // Prepare
    const out: string[] = [];
    const err: string[] = [];
    let connected = false;

    // Act
    const code = await runBackfillCli(['--table', 't', '--segments', 'many'], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env: {},
      connect: () => {
        connected = true;
        throw new Error('must not connect');
      },
    });

    // Assess
    expect(code).toBe(2);
    expect(err).toEqual([
      `error: --segments must be a whole number from 1 to ${MAX_SEGMENTS}, got "many"`,
      USAGE,
    ]);
    expect(out).toEqual([]);
    expect(connected).toBe(false);
  });

  it('prints the usage and exits with 0 for --help', async () => {
    const out: string[] = [];

    const code = await runBackfillCli(['--help'], { out: (line) => out.push(line), err: () => {} });

    expect(code).toBe(0);
    expect(out).toEqual([USAGE]);
  });
});
