/**
 * Deliver or disconnect, end to end: every @connections post fails (500), so no message is ever pushed;
 * the fan-out closes each socket whose push kept failing, and the browser SDK reconnects and catches up,
 * so every client still has every message within 10 s of its commit, with no later message to help.
 */
import { stop as stopEsbuild } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { formatVerdict } from '../chaos/checker.ts';
import { CHAOS_DEFAULTS, runChaos } from '../chaos/driver.ts';

afterAll(async () => {
  await stopEsbuild();
});

describe('deliver or disconnect', () => {
  it('gets every message to every connected SDK client within 10 s when every push fails', async () => {
    // Act
    const result = await runChaos({
      ...CHAOS_DEFAULTS,
      messages: 20,
      chats: 2,
      clients: 2,
      perChat: 2,
      rate: 2,
      plan: { seed: 1, connections: { internalError: 1 } },
    });

    // Assess
    const report = formatVerdict(result.verdict, result.faults, result.elapsedMs);
    expect(result.pushedFrames, report).toBe(0);
    expect(result.faults['connections.deleted'], report).toBeGreaterThan(0);
    expect(result.verdict.counts, report).toMatchObject({
      expected: 40,
      recoveredByCatchUp: 0,
      late: 0,
      lost: 0,
    });
    expect(result.verdict.ok, report).toBe(true);
  }, 300_000);
});
