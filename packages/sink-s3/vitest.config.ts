import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'sink-s3',
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
