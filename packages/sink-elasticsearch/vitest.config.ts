import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'sink-elasticsearch',
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    // A node started in the background (FAUCET_SERVICES_BACKGROUND) may still be booting.
    hookTimeout: 300_000,
  },
});
