import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
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
