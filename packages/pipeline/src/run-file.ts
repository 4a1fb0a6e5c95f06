/**
 * A pipeline file from start to end in one call, as `faucet run` does it: load and check the file,
 * refuse what the engine would refuse, run every row (and DAG child) and report.
 */
import { type Logger, silentLogger } from '@faucet/core';
import { type LoadOptions, loadPipeline } from './config/load.js';
import { type ExecuteOptions, type ExecutionReport, executePipeline } from './executor.js';
import { assertRunnable } from './runtime/run-checks.js';

export interface RunPipelineFileOptions extends LoadOptions, Omit<ExecuteOptions, 'logger'> {
  /** Engine and connector messages (default: none). */
  logger?: Logger;
}

/**
 * Load `file` (or faucet.yaml / faucet.yml in `cwd`), check it, and run it. Throws
 * `PipelineFileError` (every problem, placed in the file) when it cannot run; otherwise resolves
 * with the report, whose `status` says whether every invocation succeeded.
 *
 * Relative paths in connector configs are resolved by the connectors from the process's working
 * directory (the `faucet` command changes to the file's directory first).
 */
export async function runPipelineFile(
  file: string | undefined,
  options: RunPipelineFileOptions = {},
): Promise<ExecutionReport> {
  const logger = options.logger ?? silentLogger;
  const pipeline = await loadPipeline(file, options);
  if (options.mode !== 'dry-run') await assertRunnable(pipeline, logger);
  return executePipeline(pipeline, { ...options, logger });
}
