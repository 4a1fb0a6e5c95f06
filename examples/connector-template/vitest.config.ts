import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'connector-template',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
