/**
 * @faucet/pipeline: faucet's pipeline files from code — the loading, checking and running the
 * `faucet` command does, for programs that run a pipeline.yaml themselves (and for faucet's own
 * CLI and queue workers).
 *
 * The four steps (README.md has an example):
 * - `loadPipeline(file)`: parse, interpolate, expand the matrix, find every connector and check its
 *   config; `assertRunnable` adds the engine's own refusals (what `faucet validate` reports).
 * - `rootInvocations` / `childInvocations`: the invocations (state keys) a file expands into.
 * - `runInvocation(target)`: run one of them with the normal engine.
 * - `executePipeline(pipeline)` / `runPipelineFile(file)`: run a whole file (DAG order,
 *   `max_concurrent`, `on_error`), with progress through an observer.
 */

export { findConfigFile } from './config/find.js';
// Loading and checking a file
export {
  type LoadedConnector,
  type LoadedPipeline,
  type LoadedRow,
  type LoadOptions,
  loadPipeline,
} from './config/load.js';
export type { ConnectorSpec, DlqPlan, ExecutionSettings, RowPlan, TransformPlan } from './config/plan.js';
export { NAME_PATTERN } from './config/schema.js';
export type { ParentTemplate } from './config/template.js';
// Connector discovery (without importing connectors) and the pipeline file's JSON Schema
export {
  type AnyDescriptor,
  BUILTIN_CONNECTORS,
  type ConnectorKind,
  corePackage,
  createDiscovery,
  type Discovery,
  defaultHost,
  type InstalledConnector,
  type LocationOptions,
  listInstalledConnectors,
  loadDescriptor,
  type PackageInfo,
  type PipelineHost,
  packageEntry,
  pipelinePackageDir,
  type ResolvedConnector,
  readPackage,
  type SearchLocation,
  searchLocations,
} from './discovery/index.js';
export {
  ConnectorLoadError,
  ConnectorNotFoundError,
  formatLocatedIssue,
  type LocatedIssue,
  PipelineFileError,
  UsageError,
} from './errors.js';
// Whole files
export {
  type ExecuteOptions,
  type ExecutionObserver,
  type ExecutionReport,
  executePipeline,
  type InvocationInfo,
  type RowOutcome,
  type RowStatus,
} from './executor.js';
// Invocations
export { type ChildInvocations, childInvocations, rootInvocations } from './invocations.js';
export { buildPipelineJsonSchema, type SchemaPlugin } from './pipeline-json-schema.js';
export { type RunPipelineFileOptions, runPipelineFile } from './run-file.js';
export { predecessorProblem } from './runtime/execution.js';
export {
  type InvocationMode,
  type InvocationOptions,
  type InvocationOutcome,
  type InvocationTarget,
  runInvocation,
} from './runtime/invocation.js';
export { mergeParents, type PendingParents, pendingKey, pendingParents } from './runtime/pending.js';
export { assertRunnable } from './runtime/run-checks.js';
export { projectRecord } from './runtime/sinks.js';
export { createStateStores, readOnlyStateStore, type StateStores } from './runtime/state-stores.js';
export { childStateKeys, parentKeyValue, rowStateKey } from './state-keys.js';
