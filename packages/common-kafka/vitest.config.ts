import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'common-kafka',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
