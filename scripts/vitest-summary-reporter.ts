/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own report, so CI
 * logs end with a count any tool can read. The line must agree with vitest's exit code: besides
 * failed tests, `failed` counts every error vitest reports outside a test — a failed or timed-out
 * hook (beforeAll/afterAll), a file that failed to load, an unhandled error or rejection — and a run
 * that vitest ended as failed for any other reason. What they were is said on the line before.
 */
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
  /** Errors outside tests: hooks, suites, files. */
  outside: number;
  /** Tests skipped because a server's variable is not set (testkit's describeWithService), by variable. */
  missingServers: Map<string, number>;
}

/** The title testkit's describeWithService gives a test it skips: `needs X (skipped: VAR is not set: …)`. */
const MISSING_SERVER = /^needs .+ \(skipped: (FAUCET_TEST_\w+) is not set/;

function tallyModule(module: TestModule, tally: Tally): void {
  let failedHere = 0;
  for (const test of module.children.allTests()) {
    const state = test.result().state;
    if (state === 'passed') tally.passed++;
    else if (state === 'failed') {
      tally.failed++;
      failedHere++;
    } else {
      tally.skipped++;
      const variable = MISSING_SERVER.exec(test.name)?.[1];
      if (variable) tally.missingServers.set(variable, (tally.missingServers.get(variable) ?? 0) + 1);
    }
  }
  let errors = module.errors().length;
  for (const suite of module.children.allSuites()) errors += suite.errors().length;
  // A module vitest marks failed with no failed test and no error of its own still failed.
  if (errors === 0 && failedHere === 0 && module.state() === 'failed') errors = 1;
  tally.outside += errors;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError> = [],
    reason?: TestRunEndReason,
  ): void {
    const tally: Tally = { passed: 0, failed: 0, skipped: 0, outside: 0, missingServers: new Map() };
    for (const module of testModules) tallyModule(module, tally);
    const unhandled = unhandledErrors.length;
    let failed = tally.failed + tally.outside + unhandled;
    const notes: string[] = [];
    if (tally.outside > 0) notes.push(`${tally.outside} failed hook, suite or file`);
    if (unhandled > 0) notes.push(`${unhandled} unhandled error${unhandled === 1 ? '' : 's'}`);
    if (reason !== undefined && reason !== 'passed' && failed === 0) {
      failed = 1;
      notes.push(`the run ended as ${reason}`);
    }
    if (notes.length > 0) process.stdout.write(`\nfailures outside tests: ${notes.join(', ')}`);
    if (tally.missingServers.size > 0) {
      const count = [...tally.missingServers.values()].reduce((a, b) => a + b, 0);
      process.stdout.write(
        `\n${count} integration test group${count === 1 ? ' was' : 's were'} skipped: no server for ` +
          `${[...tally.missingServers.keys()].sort().join(', ')}. Start the servers with ` +
          '`bash scripts/services.sh start && eval "$(bash scripts/services.sh env)"`, then run the tests again.',
      );
    }
    process.stdout.write(`\n${tally.passed} passed, ${failed} failed, ${tally.skipped} skipped\n`);
  }
}
