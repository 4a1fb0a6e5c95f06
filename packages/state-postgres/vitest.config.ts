import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'state-postgres',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
