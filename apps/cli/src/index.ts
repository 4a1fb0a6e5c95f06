/**
 * @faucet/cli as a library: the same loading, checking and running `faucet` does, for tools that
 * want to drive pipeline files from code.
 */
export { main } from './cli.js';
export { type LoadedPipeline, type LoadedRow, type LoadOptions, loadPipeline } from './config/load.js';
export type { ParentTemplate } from './config/template.js';
export {
  createDiscovery,
  type Discovery,
  type InstalledConnector,
  listInstalledConnectors,
  searchLocations,
} from './discovery/index.js';
export {
  ConnectorLoadError,
  ConnectorNotFoundError,
  type LocatedIssue,
  PipelineFileError,
  UsageError,
} from './errors.js';
export { type ExecuteOptions, type ExecutionReport, executePipeline, type RowOutcome } from './executor.js';
export { buildPipelineJsonSchema, type SchemaPlugin } from './pipeline-json-schema.js';
