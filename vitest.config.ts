import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // examples/* holds runnable pipelines too; only folders with their own vitest config are projects.
    projects: ['packages/*', 'apps/*', 'examples/*/vitest.config.ts', 'scripts/vitest.config.ts'],
    reporters: ['default', './scripts/vitest-summary-reporter.ts'],
  },
});
