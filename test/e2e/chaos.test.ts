/**
 * The chaos run in short (`npm run chaos` at ~2,000 messages): the full fault plan, the browser SDK as
 * receivers, senders retrying with their clientMessageId; nothing lost, duplicated or out of order, and
 * every message at its connected clients within 10 s of its commit (test/chaos/checker.ts).
 */
import { stop as stopEsbuild } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { FULL_PLAN } from '../../infra/local/faults.ts';
import { formatVerdict } from '../chaos/checker.ts';
import { CHAOS_DEFAULTS, runChaos } from '../chaos/driver.ts';

const MESSAGES = Number(process.env.CHAOS_TEST_MESSAGES ?? 2_000);

afterAll(async () => {
  await stopEsbuild();
});

describe('chaos (full fault plan)', () => {
  it(`loses, duplicates and reorders none of ${MESSAGES} messages, and delivers each live within 10 s`, async () => {
    // Act
    const result = await runChaos({ ...CHAOS_DEFAULTS, messages: MESSAGES, plan: FULL_PLAN });

    // Assess
    const report = formatVerdict(result.verdict, result.faults, result.elapsedMs);
    expect(result.verdict.counts.sent, report).toBe(MESSAGES);
    expect(result.verdict.counts, report).toMatchObject({ lost: 0, duplicated: 0, outOfOrder: 0 });
    expect(result.verdict.ok, report).toBe(true);
    // The plan fired: sockets dropped, pushes and DynamoDB calls failed, batches timed out.
    expect(Object.keys(result.faults).length, report).toBeGreaterThan(5);
  }, 600_000);
});
