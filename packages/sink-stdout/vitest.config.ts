import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'sink-stdout',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
