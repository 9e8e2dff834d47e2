import { defineConfig } from 'vitest/config';

/** Test files with wall-clock bounds that run alone, after the rest (vitest.heavy.config.ts). */
export const HEAVY_TESTS = ['test/e2e/chaos.test.ts', 'test/e2e/soak.test.ts'];

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The chaos and soak runs need the machine to themselves (their liveness and storm bounds are
    // wall-clock): `npm test` runs them after this suite, one at a time (vitest.heavy.config.ts).
    exclude: [...HEAVY_TESTS, 'node_modules/**'],
    // What every test file needs: AWS SDK defaults and the client-mock matchers.
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration and end-to-end files each start their own local services on free ports; keep the
    // 2-core CI machine from starting too many JVMs at once.
    maxWorkers: 2,
    fileParallelism: true,
  },
});
