import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'source-file',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
