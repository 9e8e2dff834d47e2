/**
 * The deployed bundles' credential provider (shared/adapters/lambda-credentials.ts): the execution
 * role's keys from the environment Lambda sets, and a clear failure without them.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultProvider } from '../../shared/adapters/lambda-credentials.ts';

describe('lambda credential provider', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('returns the execution role keys Lambda puts in the environment', async () => {
    // Prepare
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'ASIAEXAMPLEKEY');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-example');
    vi.stubEnv('AWS_SESSION_TOKEN', 'session-example');

    // Act
    const credentials = await defaultProvider({})();

    // Assess
    expect(credentials).toMatchObject({
      accessKeyId: 'ASIAEXAMPLEKEY',
      secretAccessKey: 'secret-example',
      sessionToken: 'session-example',
    });
  });

  it('fails with a credentials error when the environment has no keys, instead of trying other sources', async () => {
    // Prepare
    vi.stubEnv('AWS_ACCESS_KEY_ID', '');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', '');

    // Act
    const resolving = defaultProvider()();

    // Assess
    await expect(resolving).rejects.toThrow(/credentials/i);
  });
});
