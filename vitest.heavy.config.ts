import { defineConfig } from 'vitest/config';
import { HEAVY_TESTS } from './vitest.config.ts';

/**
 * The short chaos and soak runs (docs/reliability.md): after the main suite, one file at a time, so that
 * their 10 s liveness bound and 60 s storm bound measure the local cloud, not the other test files.
 */
export default defineConfig({
  test: {
    include: HEAVY_TESTS,
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    maxWorkers: 1,
    fileParallelism: false,
  },
});
