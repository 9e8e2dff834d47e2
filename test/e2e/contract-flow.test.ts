/**
 * The contract flow script (scripts/contract-flow.ts) against a local cloud started in this process on
 * free ports: what a client that knows only the public contract sees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { runContractFlow } from '../../scripts/contract-flow.ts';

describe('the public contract, from the outside', () => {
  let cloud: LocalCloud;

  beforeAll(async () => {
    cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });
  });

  afterAll(async () => {
    await cloud?.stop();
  });

  it('carries a visitor and an agent through chat, live messages, a dropped socket and catch-up', async () => {
    // Prepare
    const lines: string[] = [];

    // Act
    const result = await runContractFlow({ httpUrl: cloud.urls.http, log: (line) => lines.push(line) });

    // Assess
    expect(lines.filter((line) => line.startsWith('FAIL'))).toEqual([]);
    expect(result.steps.map((step) => step.name)).toContain(
      'the visitor reconnects with a new ticket and catches up after its last seq',
    );
    expect(result.steps.map((step) => step.name)).toContain(
      'a ticket that was already used is refused with 401',
    );
    expect(result.chatId).toMatch(/^ch_/);
  });

  it('names the failed step when the API is not there', async () => {
    // Prepare
    const nowhere = 'http://127.0.0.1:9';

    // Act
    const run = runContractFlow({ httpUrl: nowhere, timeoutMs: 1_000 });

    // Assess
    await expect(run).rejects.toMatchObject({
      name: 'ContractFlowError',
      step: 'a visitor of the tenant gets a token',
    });
  });
});
