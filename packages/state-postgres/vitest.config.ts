import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'state-postgres',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    // Clean-up hooks delete large trees; on a loaded 2-core machine that takes a while.
    hookTimeout: 120_000,
  },
});
