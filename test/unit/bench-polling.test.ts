/**
 * The bench's polling mode: the per-visitor-hour arithmetic over the cost model, the concurrency figure,
 * the goals and what they ask of the pace (test/bench/polling-cost.ts), the delivery verdicts
 * (test/bench/polling-delivery.ts), and the scope that tells the polls' DynamoDB calls apart
 * (test/bench/polling-scope.ts). Every expected value is worked out by hand in the comments.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallListener } from '../bench/capacity.ts';
import {
  HTTP_ACCESS_LOG_BYTES_PER_REQUEST,
  LAMBDA_PLATFORM_BYTES_PER_INVOCATION,
} from '../bench/cost-meters.ts';
import {
  concurrencyPerVisitor,
  costPerVisitorHour,
  paceForGoals,
  pollingGoals,
  type PollWindow,
  visitorHours,
} from '../bench/polling-cost.ts';
import {
  awaited,
  checkDeliveries,
  type ReceivedMessage,
  type SentMessage,
} from '../bench/polling-delivery.ts';
import { installPollScope, isPollRequest, type PollScope } from '../bench/polling-scope.ts';

/** 2 visitors for 30 minutes (1 visitor-hour), 1,000 polls, each 19.2 ms (billed 20) at 256 MB. */
const window = (): PollWindow => ({
  visitors: 2,
  windowMs: 1_800_000,
  requestBytes: Array.from({ length: 1000 }, () => 300),
  functions: [
    { name: 'http-poll-events', memoryMb: 256, durationsMs: Array.from({ length: 1000 }, () => 19.2) },
  ],
  dynamodb: Array.from({ length: 1000 }, () => ({
    kind: 'read' as const,
    consistency: 'eventual' as const,
    itemBytes: [100],
  })),
  logs: { recordBytes: 0, emfBytes: 0 },
});

describe('cost per polling visitor-hour', () => {
  it('counts visitor-hours as visitors × wall time', () => {
    // Act / Assess: 2 visitors × 30 min = 1 h; 50 visitors × 72 s = 1 h
    expect(visitorHours(2, 1_800_000)).toBe(1);
    expect(visitorHours(50, 72_000)).toBe(1);
  });

  it('bills requests, invocations, GB-seconds, read units and log bytes of the polls, per visitor-hour', () => {
    // Prepare
    const input = window();

    // Act
    const cost = costPerVisitorHour(input);

    // Assess: HTTP API 1,000 × $1/1M = $0.001; Lambda requests 1,000 × $0.20/1M = $0.0002; duration
    // 1,000 × 20 ms × 0.25 GB = 5 GB-s × $0.0000133334 = $0.000066667; DynamoDB 1,000 × 0.5 RRU = 500 RRU ×
    // $0.125/1M = $0.0000625; logs 1,000 × (system log lines + access record) bytes × $0.50 per 2^30 B
    const logsUsd =
      (1000 * (LAMBDA_PLATFORM_BYTES_PER_INVOCATION + HTTP_ACCESS_LOG_BYTES_PER_REQUEST) * 0.5) / 2 ** 30;
    const line = (item: string) => cost.lines.find((entry) => entry.item === item);
    expect(cost.visitorHours).toBe(1);
    expect(cost.polls).toBe(1000);
    expect(cost.pollsPerVisitorHour).toBe(1000);
    expect(line('HTTP API requests')?.usdPerVisitorHour).toBeCloseTo(0.001, 12);
    expect(line('http-poll-events requests')?.usdPerVisitorHour).toBeCloseTo(0.0002, 12);
    expect(line('http-poll-events duration (256 MB)')?.perVisitorHour).toBeCloseTo(5, 9);
    expect(line('http-poll-events duration (256 MB)')?.usdPerVisitorHour).toBeCloseTo(0.000066667, 12);
    expect(line('read request units')?.perPoll).toBe(0.5);
    expect(line('read request units')?.usdPerVisitorHour).toBeCloseTo(0.0000625, 12);
    expect(cost.byService['CloudWatch Logs']).toBeCloseTo(logsUsd, 12);
    const total = 0.001 + 0.0002 + 0.000066667 + 0.0000625 + logsUsd;
    expect(cost.usdPerVisitorHour).toBeCloseTo(total, 12);
    expect(cost.usdPerPoll).toBeCloseTo(total / 1000, 15);
  });

  it('halves every per-hour figure when the same polls served twice the visitor-hours', () => {
    // Prepare
    const once = costPerVisitorHour(window());

    // Act
    const twice = costPerVisitorHour({ ...window(), visitors: 4 });

    // Assess: same polls, same dollars per poll
    expect(twice.usdPerVisitorHour).toBeCloseTo(once.usdPerVisitorHour / 2, 15);
    expect(twice.pollsPerVisitorHour).toBe(500);
    expect(twice.usdPerPoll).toBeCloseTo(once.usdPerPoll, 15);
  });
});

describe('concurrent invocations per visitor', () => {
  it('divides the billed duration (each invocation rounded up to 1 ms) by wall time × visitors', () => {
    // Act: 1,000 × 19.2 ms → 20,000 billed ms over 1,800 s × 2 visitors = 20,000 / 3,600,000
    const concurrency = concurrencyPerVisitor(window().functions[0]?.durationsMs ?? [], 1_800_000, 2);

    // Assess
    expect(concurrency).toBeCloseTo(20_000 / 3_600_000, 12);
    expect(concurrencyPerVisitor([0.2], 1000, 1)).toBe(0.001); // at least 1 ms billed
    expect(concurrencyPerVisitor([5], 0, 3)).toBe(0);
  });
});

describe('polling goals', () => {
  it('holds each goal at its bound and misses it just above', () => {
    // Act
    const at = pollingGoals({
      usdPerVisitorHour: 0.003,
      concurrencyPerVisitor: 0.05,
      deliveryP50Ms: 1500,
      delivered: 10,
    });
    const above = pollingGoals({
      usdPerVisitorHour: 0.0031,
      concurrencyPerVisitor: 0.051,
      deliveryP50Ms: 1501,
      delivered: 10,
    });

    // Assess
    expect(at.map((goal) => goal.held)).toEqual([true, true, true]);
    expect(above.map((goal) => goal.held)).toEqual([false, false, false]);
    expect(at.some((goal) => goal.integrity)).toBe(false);
  });

  it('misses the latency goal when no message was delivered', () => {
    // Act
    const goals = pollingGoals({
      usdPerVisitorHour: 0,
      concurrencyPerVisitor: 0,
      deliveryP50Ms: 0,
      delivered: 0,
    });

    // Assess
    expect(goals[2]).toMatchObject({ held: false, measured: 'no delivery' });
  });

  it('derives the pace window the goals leave from the cost and duration of one poll', () => {
    // Act: $2 per 1M polls, 20 billed ms, 50 ms round trip
    const pace = paceForGoals({ usd: 2e-6, billedMs: 20, requestMs: 50 });

    // Assess: cost 3,600,000 ms × 2e-6 / 0.003 = 2,400 ms; concurrency 20 / 0.05 = 400 ms;
    // p50 half an interval + 50 ms ≤ 1,500 ms → interval ≤ 2,900 ms
    expect(pace.minIntervalForCostMs).toBeCloseTo(2400, 9);
    expect(pace.minIntervalForConcurrencyMs).toBeCloseTo(400, 9);
    expect(pace.maxIntervalForP50Ms).toBe(2900);
    expect(pace.feasible).toBe(true);
    // $2.50 per 1M polls needs ≥ 3,000 ms: more than the 2,900 the latency goal allows
    expect(paceForGoals({ usd: 2.5e-6, billedMs: 20, requestMs: 50 }).feasible).toBe(false);
  });
});

describe('polling delivery verdicts', () => {
  const sentMessage = (clientMessageId: string, seq: number | undefined, measured = true): SentMessage => ({
    chatId: 'c1',
    clientMessageId,
    measured,
    sentAt: 1000,
    ...(seq !== undefined ? { ackAt: 1040, seq } : { failure: 'http 500' }),
  });
  const got = (seq: number, clientMessageId?: string, at = 2000): ReceivedMessage => ({
    chatId: 'c1',
    seq,
    ...(clientMessageId ? { clientMessageId } : {}),
    createdAt: 1010,
    at,
  });

  it('passes every message received once, in seq order, and times measured ones from createdAt', () => {
    // Prepare: a warm-up message (seq 1) and two measured ones
    const sent = [sentMessage('w', 1, false), sentMessage('a', 2), sentMessage('b', 3)];

    // Act
    const check = checkDeliveries(sent, [got(1, 'w'), got(2, 'a', 1510), got(3, 'b', 2510)]);

    // Assess: latencies 1,510 − 1,010 = 500 and 2,510 − 1,010 = 1,500; acks 40 ms
    expect(check).toMatchObject({ ok: true, delivered: 3, lost: 0, duplicates: 0, gaps: 0, measured: 2 });
    expect(check.deliveryMs).toMatchObject({ count: 2, p50: 500, max: 1500 });
    expect(check.ackMs.p50).toBe(40);
  });

  it('fails on a message received twice', () => {
    // Act
    const check = checkDeliveries([sentMessage('a', 1)], [got(1, 'a'), got(1, 'a')]);

    // Assess
    expect(check).toMatchObject({ ok: false, duplicates: 1, delivered: 1 });
  });

  it('fails on a seq below one already received, and on a skipped seq with its message lost', () => {
    // Act
    const reordered = checkDeliveries([sentMessage('a', 1), sentMessage('b', 2)], [got(2, 'b'), got(1, 'a')]);
    const skipped = checkDeliveries(
      [sentMessage('a', 1), sentMessage('b', 2), sentMessage('c', 3)],
      [got(1, 'a'), got(3, 'c')],
    );

    // Assess
    expect(reordered).toMatchObject({ ok: false, outOfOrder: 1, lost: 0 });
    expect(skipped).toMatchObject({ ok: false, gaps: 1, lost: 1, delivered: 2 });
  });

  it('counts messages the bench did not send without failing, and fails a failed send', () => {
    // Act: seq 1 a greeting (no clientMessageId); the send of 'x' answered 500
    const check = checkDeliveries([sentMessage('a', 2), sentMessage('x', undefined)], [got(1), got(2, 'a')]);

    // Assess
    expect(check).toMatchObject({ others: 1, lost: 0, failedSends: 1, ok: false });
  });

  it('fails a message received under another seq than its ack named', () => {
    // Act
    const check = checkDeliveries([sentMessage('a', 2)], [got(1), got(3, 'a')]);

    // Assess
    expect(check).toMatchObject({ mismatched: 1, ok: false });
  });

  it('waits only for acked messages not received yet', () => {
    // Act / Assess
    expect(
      awaited([sentMessage('a', 1), sentMessage('b', 2), sentMessage('x', undefined)], [got(1, 'a')]),
    ).toBe(1);
  });
});

describe('poll scope', () => {
  let scope: PollScope | undefined;
  afterEach(() => scope?.uninstall());

  it('recognises a poll of a chat’s events and nothing else', () => {
    // Act / Assess
    expect(isPollRequest('GET', '/v1/chats/ch_1/events?after=3&afterEvent=0&waitSeconds=0')).toBe(true);
    expect(isPollRequest('GET', '/v1/chats/ch_1/events')).toBe(true);
    expect(isPollRequest('POST', '/v1/chats/ch_1/events')).toBe(false);
    expect(isPollRequest('GET', '/v1/chats/ch_1/messages?after=3')).toBe(false);
    expect(isPollRequest('GET', '/v1/chats/changes?since=x')).toBe(false);
    expect(isPollRequest('GET', '/v1/chats/ch_1/events/x')).toBe(false);
  });

  it('attributes the calls made while serving a poll to the polls, and no others', async () => {
    // Prepare: a meter that reports one call per request, after an await (as a DynamoDB call ends)
    let listener: CallListener | undefined;
    scope = installPollScope({
      observe: (fn) => {
        listener = fn;
        return () => (listener = undefined);
      },
    });
    const server = createServer((request, response) => {
      void (async () => {
        await Promise.resolve();
        listener?.(
          { kind: 'read', consistency: 'eventual', itemBytes: [10], basis: 'sizes' },
          {
            operation: 'GetItem',
            target: request.method === 'GET' ? 'CHAT' : 'CHAT/MSG',
          },
        );
        response.end('{}');
      })();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const mark = scope.mark();

    // Act
    await fetch(`${base}/v1/chats/c1/events?after=0`).then((response) => response.text());
    await fetch(`${base}/v1/chats/c1/messages`, { method: 'POST', body: '{}' }).then((response) =>
      response.text(),
    );
    await fetch(`${base}/v1/chats/c1/events?after=1`).then((response) => response.text());
    await new Promise<void>((done) => server.close(() => done()));

    // Assess
    const seen = scope.since(mark);
    expect(seen.dynamodb).toHaveLength(2);
    expect(seen.callsByTarget).toEqual({ 'GetItem CHAT': 2 });
  });
});
