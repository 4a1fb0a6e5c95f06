/**
 * @faucet/cli as a library: `main` runs the command line. The loading, checking and running of
 * pipeline files lives in @faucet/pipeline; it is re-exported here for tools written against the
 * CLI's earlier exports.
 */

export {
  buildPipelineJsonSchema,
  ConnectorLoadError,
  ConnectorNotFoundError,
  createDiscovery,
  type Discovery,
  type ExecuteOptions,
  type ExecutionReport,
  executePipeline,
  type InstalledConnector,
  type LoadedPipeline,
  type LoadedRow,
  type LoadOptions,
  type LocatedIssue,
  listInstalledConnectors,
  loadPipeline,
  type ParentTemplate,
  PipelineFileError,
  type RowOutcome,
  type SchemaPlugin,
  searchLocations,
  UsageError,
} from '@faucet/pipeline';
export { main } from './cli.js';
