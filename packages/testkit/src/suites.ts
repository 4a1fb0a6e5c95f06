/**
 * The vitest suites: one call registers one `describe` with one test per rule. Checks a connector
 * does not declare are registered with `it.skip` and the reason in the title.
 */
import { beforeAll, describe, it } from 'vitest';
import {
  type PlannedCheck,
  planSinkSuite,
  planSourceSuite,
  planStateStoreSuite,
  type SinkSuiteOptions,
  type SourceSuiteOptions,
  type StateStoreSuiteOptions,
} from './plan.js';

const DEFAULT_TIMEOUT_MS = 60_000;

function register(checks: readonly PlannedCheck[], timeoutMs: number | undefined): void {
  for (const check of checks) {
    if (check.skip !== undefined) it.skip(check.title, check.run);
    else it(check.title, check.run, timeoutMs ?? DEFAULT_TIMEOUT_MS);
  }
}

/** Register the source conformance suite. */
export function testSource(options: SourceSuiteOptions): void {
  const { dataset, checks } = planSourceSuite(options);
  describe(`source "${options.name}" conformance`, () => {
    const { seed } = options;
    if (seed) beforeAll(() => seed(dataset.records), options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    register(checks, options.timeoutMs);
  });
}

/** Register the sink conformance suite. */
export function testSink(options: SinkSuiteOptions): void {
  const { checks } = planSinkSuite(options);
  describe(`sink "${options.name}" conformance`, () => {
    register(checks, options.timeoutMs);
  });
}

/** Register the state store conformance suite. */
export function testStateStore(options: StateStoreSuiteOptions): void {
  const { checks } = planStateStoreSuite(options);
  describe(`state store "${options.name}" conformance`, () => {
    register(checks, options.timeoutMs);
  });
}
