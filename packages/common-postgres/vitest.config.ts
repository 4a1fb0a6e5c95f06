import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'common-postgres',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
