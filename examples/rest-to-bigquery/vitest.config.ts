import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'rest-to-bigquery',
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
  },
});
