/**
 * The bench's cost model (test/bench/cost.ts): AWS's billing rules on counted calls, item sizes,
 * invocations, durations, frames and log bytes, with every expected value worked out by hand; and how a
 * DynamoDB call the meter saw becomes a billed call (test/bench/cost-dynamodb.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  costPerMillionMessages,
  type CostInput,
  httpApiRequests,
  lambdaGbSeconds,
  readRequestUnits,
  webSocketMessages,
  writeRequestUnits,
} from '../bench/cost.ts';
import { billedCall, itemBytes } from '../bench/cost-dynamodb.ts';
import { PRICES } from '../bench/cost-prices.ts';

describe('read request units', () => {
  it('charges per started 4 KB: 1 strongly consistent, half eventually consistent, 2 transactional', () => {
    expect(readRequestUnits('strong', [4096])).toBe(1);
    expect(readRequestUnits('strong', [4097])).toBe(2);
    expect(readRequestUnits('eventual', [4096])).toBe(0.5);
    expect(readRequestUnits('eventual', [4097])).toBe(1);
    expect(readRequestUnits('transactional', [4096])).toBe(2);
    expect(readRequestUnits('transactional', [8193])).toBe(6);
  });

  it('charges the minimum for a read that finds nothing, and each item of a batch on its own', () => {
    expect(readRequestUnits('eventual', [0])).toBe(0.5);
    expect(readRequestUnits('strong', [0])).toBe(1);
    // BatchGet of 3 items of 100 B, 5,000 B and a missing key, eventually consistent: 0.5 + 1 + 0.5.
    expect(readRequestUnits('eventual', [100, 5000, 0])).toBe(2);
  });

  it('rounds a Query once, on the summed size of the items it read', () => {
    // 30 items of 300 B = 9,000 B: 3 started 4 KB blocks, eventually consistent: 1.5 (not 30 × 0.5).
    expect(readRequestUnits('eventual', [30 * 300])).toBe(1.5);
  });
});

describe('write request units', () => {
  it('charges 1 per started 1 KB of each item', () => {
    expect(writeRequestUnits({ kind: 'write', transactional: false, itemBytes: [1] })).toEqual({
      table: 1,
      index: 0,
    });
    expect(writeRequestUnits({ kind: 'write', transactional: false, itemBytes: [1024] }).table).toBe(1);
    expect(writeRequestUnits({ kind: 'write', transactional: false, itemBytes: [1025] }).table).toBe(2);
    expect(writeRequestUnits({ kind: 'write', transactional: false, itemBytes: [3 * 1024] }).table).toBe(3);
  });

  it('doubles transactional writes, per item', () => {
    // Items of 100 B, 1,500 B and 3,000 B: (1 + 2 + 3) × 2 = 12.
    expect(
      writeRequestUnits({ kind: 'write', transactional: true, itemBytes: [100, 1500, 3000] }).table,
    ).toBe(12);
  });

  it('adds 1 per started 1 KB of each index entry written; a moved index key is two entries', () => {
    // A chat item of 343 B whose list position moves in two indexes: delete + put in each, keys only.
    const units = writeRequestUnits({
      kind: 'write',
      transactional: false,
      itemBytes: [343],
      indexEntryBytes: [120, 120, 120, 120],
    });
    expect(units).toEqual({ table: 1, index: 4 });
    expect(
      writeRequestUnits({ kind: 'write', transactional: false, itemBytes: [343], indexEntryBytes: [1100] })
        .index,
    ).toBe(2);
  });
});

describe('Lambda GB-seconds', () => {
  it('rounds each invocation up to the next millisecond before multiplying by memory', () => {
    // 256 MB = 0.25 GB; 10.2 ms → 11, 0.3 ms → 1, 5 ms → 5: 17 ms × 0.25 GB = 0.00425 GB-s.
    expect(lambdaGbSeconds(256, [10.2, 0.3, 5])).toBeCloseTo(0.00425, 12);
    // Rounded per invocation, not on the sum: 3 × 0.4 ms bills 3 ms, not 2 (ceil of 1.2).
    expect(lambdaGbSeconds(1024, [0.4, 0.4, 0.4])).toBeCloseTo(0.003, 12);
  });
});

describe('API Gateway increments', () => {
  it('counts WebSocket messages per started 32 KB and HTTP requests per started 512 KB', () => {
    expect(webSocketMessages([200, 32 * 1024, 32 * 1024 + 1])).toBe(1 + 1 + 2);
    expect(httpApiRequests([1000, 512 * 1024 + 1])).toBe(1 + 2);
  });
});

describe('costPerMillionMessages', () => {
  it('prices one window by service, per 1M messages', () => {
    // Prepare: 2 messages.
    const input: CostInput = {
      messages: 2,
      // In: 2 frames (2 messages); out: 3 small + one of 40,000 B (2 increments) = 5. 7 × $1 / 1M.
      frames: { inBytes: [200, 200], outBytes: [500, 500, 500, 40_000] },
      // 2 requests; 11 + 1 ms at 0.25 GB = 0.003 GB-s.
      functions: [{ name: 'f', memoryMb: 256, durationsMs: [10.2, 0.3] }],
      dynamodb: [
        { kind: 'write', transactional: false, itemBytes: [1024] }, // 1
        { kind: 'write', transactional: false, itemBytes: [1025] }, // 2
        { kind: 'write', transactional: true, itemBytes: [100, 2048], indexEntryBytes: [100, 100] }, // 6 + 2
        { kind: 'write', transactional: false, itemBytes: [300] }, // a failed condition still costs 1
        { kind: 'read', consistency: 'eventual', itemBytes: [4096] }, // 0.5
        { kind: 'read', consistency: 'eventual', itemBytes: [4097] }, // 1
        { kind: 'read', consistency: 'strong', itemBytes: [0] }, // 1
        { kind: 'read', consistency: 'transactional', itemBytes: [5000] }, // 4
        { kind: 'read', consistency: 'eventual', itemBytes: [10_000] }, // 1.5
      ],
      logs: [{ source: 'records', bytes: 2048 }],
    };

    // Act
    const cost = costPerMillionMessages(input);

    // Assess: dollars for the window ÷ 2 messages × 1M.
    expect(cost.byService['API Gateway']).toBeCloseTo((7 * 1) / 2, 9); // 3.50
    // Requests 2 × $0.20 / 1M → 0.20; duration 0.003 GB-s × $0.0000133334 → 4.00002e-8 $ → 0.0200001.
    expect(cost.byService.Lambda).toBeCloseTo(0.2 + 0.0200001, 9);
    // 10 table + 2 index WRU × $0.625 / 1M → 3.75; 8 RRU × $0.125 / 1M → 0.50.
    expect(cost.byService.DynamoDB).toBeCloseTo(3.75 + 0.5, 9);
    // 2,048 B = 2^-19 GB × $0.50 = 9.5367e-7 $ → 0.4768.
    expect(cost.byService['CloudWatch Logs']).toBeCloseTo(0.476837158203125, 9);
    expect(cost.usdPerMillionMessages).toBeCloseTo(3.5 + 0.2200001 + 4.25 + 0.476837158203125, 9);
    expect(cost.dominant?.item).toBe('write request units, table'); // 3.125
    const line = (item: string) => cost.lines.find((entry) => entry.item === item);
    expect(line('WebSocket messages out')?.perMessage).toBe(2.5);
    expect(line('read request units')?.perMessage).toBe(4);
    expect(line('f duration (256 MB)')?.perMessage).toBeCloseTo(0.0015, 12);
  });

  it('uses the prices it is given', () => {
    const cost = costPerMillionMessages(
      { messages: 1, frames: { inBytes: [10], outBytes: [] }, functions: [], dynamodb: [], logs: [] },
      { ...PRICES, wsMessage: { ...PRICES.wsMessage, usd: 2 } },
    );
    expect(cost.usdPerMillionMessages).toBe(2);
  });
});

describe('billedCall', () => {
  const consumed = (units: number, indexes: Record<string, number> = {}) => [
    {
      CapacityUnits: units + Object.values(indexes).reduce((sum, value) => sum + value, 0),
      Table: { CapacityUnits: units },
      GlobalSecondaryIndexes: Object.fromEntries(
        Object.entries(indexes).map(([name, value]) => [name, { CapacityUnits: value }]),
      ),
    },
  ];

  it('sizes a Put from its item, also when its condition fails', () => {
    // pk (2 + 6) + sk (2 + 5) + text (4 + 1,100): 1,119 B.
    const item = { pk: 'CHAT#1', sk: 'MSG#1', text: 'x'.repeat(1100) };
    expect(itemBytes({ pk: { S: 'CHAT#1' }, sk: { S: 'MSG#1' }, text: { S: 'x'.repeat(1100) } })).toBe(1119);
    const put = billedCall({
      op: 'PutItem',
      input: { Item: item },
      failed: true,
      consumed: [],
      document: true,
    });
    expect(put).toEqual({ kind: 'write', transactional: false, itemBytes: [1119], basis: 'sizes' });
    expect(put?.kind === 'write' && writeRequestUnits(put).table).toBe(2);
  });

  it('bills a consistent GetItem that finds nothing the minimum, and a projected read by DynamoDB Local', () => {
    const miss = billedCall({
      op: 'GetItem',
      input: { ConsistentRead: true },
      output: {},
      failed: false,
      consumed: consumed(1),
      document: true,
    });
    expect(miss?.kind === 'read' && readRequestUnits(miss.consistency, miss.itemBytes)).toBe(1);
    const projected = billedCall({
      op: 'GetItem',
      input: { ProjectionExpression: 'pk' },
      output: { Item: { pk: 'CHAT#1' } },
      failed: false,
      consumed: consumed(0.5),
      document: true,
    });
    expect(projected?.basis).toBe('local');
    expect(projected?.kind === 'read' && readRequestUnits(projected.consistency, projected.itemBytes)).toBe(
      0.5,
    );
  });

  it('bills every key of a projected BatchGet at least the minimum, found or not', () => {
    // Prepare: 3 keys with a projection; DynamoDB Local reports 0.5 (one found item, the misses uncounted)
    const batch = {
      op: 'BatchGetItem',
      input: {
        RequestItems: { t: { Keys: [{ pk: 'A' }, { pk: 'B' }, { pk: 'C' }], ProjectionExpression: 'x' } },
      },
      output: { Responses: { t: [{ x: 1 }] } },
      failed: false,
      consumed: consumed(0.5),
      document: true,
    };

    // Act
    const billed = billedCall(batch);

    // Assess: AWS bills 0.5 per key read eventually consistent, missing keys included: 1.5
    expect(billed?.basis).toBe('local');
    expect(billed?.kind === 'read' && readRequestUnits(billed.consistency, billed.itemBytes)).toBe(1.5);
  });

  it("takes an update's size class and index writes from DynamoDB Local, and never its transaction figures", () => {
    const update = billedCall({
      op: 'UpdateItem',
      input: {},
      output: {},
      failed: false,
      consumed: consumed(1, { byTenant: 2 }),
      document: true,
    });
    expect(update?.kind === 'write' && writeRequestUnits(update)).toEqual({ table: 1, index: 2 });
    // DynamoDB Local reports 2 for three small Puts in a transaction; AWS bills 2 per item: 6.
    const transaction = billedCall({
      op: 'TransactWriteItems',
      input: { TransactItems: [1, 2, 3].map((n) => ({ Put: { Item: { pk: `CHAT#${n}`, sk: 'X' } } })) },
      output: {},
      failed: false,
      consumed: consumed(2),
      document: true,
    });
    expect(transaction?.basis).toBe('sizes');
    expect(transaction?.kind === 'write' && writeRequestUnits(transaction).table).toBe(6);
  });
});
