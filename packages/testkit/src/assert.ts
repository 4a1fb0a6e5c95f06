/**
 * `@faucet/testkit/assert`: the conformance checks as plain async functions (they throw a
 * ConformanceError), the doubles and helpers. No vitest import, so any test runner can use it.
 */

export { assertConfigSchema, type ConfigExamples, type ConfigSchemaCheck } from './checks/config-schema.js';
export {
  assertSinkUnreachable,
  assertSourceUnreachable,
  assertStateStoreUnreachable,
  type UnreachableCheck,
  type UnreachableTarget,
} from './checks/errors.js';
export {
  assertSinkKeepsSecrets,
  assertSourceKeepsSecrets,
  assertStateStoreKeepsSecrets,
  type SecretsProbe,
  type SinkSecretsCheck,
  type SourceSecretsCheck,
  type StateStoreSecretsCheck,
} from './checks/secrets.js';
export {
  assertEffectivelyOnce,
  assertKeyedUpsert,
  assertRowFailures,
  assertSinkCancellation,
  assertSinkCrashResume,
  assertSinkDelivers,
  type KeyedCheck,
  type RowFailuresCheck,
  type SinkCheck,
  type SinkCrashCheck,
  type SinkFactory,
} from './checks/sink.js';
export {
  assertBookmarkRoundTrip,
  assertBoundedPages,
  assertSourceCancellation,
  assertSourceCrashResume,
  assertStreams,
  type BookmarkCheck,
  type CancellationCheck,
  type CrashResumeCheck,
  type DeclaredBookmarks,
  type SourceCheck,
  type SourceFactory,
  type StreamingCheck,
} from './checks/source.js';
export { assertStateEngineLock, type StateEngineLockCheck } from './checks/state-engine.js';
export {
  assertStateAtomicPut,
  assertStateDurable,
  assertStateLock,
  assertStateRoundTrip,
  type StateLockCheck,
  type StateStoreCheck,
  type StateStoreDurableCheck,
  type StateStoreFactory,
} from './checks/state-store.js';
export {
  ConformanceError,
  type ConnectorKind,
  isConformanceError,
  type RuleId,
  Rules,
} from './conformance-error.js';
export {
  compareKeys,
  type Dataset,
  type DatasetOptions,
  DEFAULT_COUNT,
  defaultRecord,
  keysOf,
  keyText,
  makeDataset,
} from './dataset.js';
export * from './doubles/index.js';
export { captureLogger, instantiate, type LogLine } from './env.js';
export {
  type PlannedCheck,
  planSinkSuite,
  planSourceSuite,
  planStateStoreSuite,
  type SinkCapabilities,
  type SinkSuiteOptions,
  type SourceCapabilities,
  type SourceSuiteOptions,
  type StateStoreCapabilities,
  type StateStoreSuiteOptions,
} from './plan.js';
