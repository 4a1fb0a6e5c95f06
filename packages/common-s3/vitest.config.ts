import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'common-s3',
    include: ['test/**/*.test.ts'],
  },
});
