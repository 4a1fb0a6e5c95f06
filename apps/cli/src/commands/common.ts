/** Helpers shared by the commands. */
import { errorMessage, isFaucetError, Redactor, redactUrlPasswords } from '@faucet/core';
import { type LoadedPipeline, type LoadedRow, PipelineFileError, UsageError } from '@faucet/pipeline';
import { type CliIo, ExitCode, writeLine } from '../io.js';

/**
 * Relative paths in a pipeline file (a CSV to read, a state directory) mean "next to the file".
 * Connectors resolve paths against the working directory, so commands that create connectors run
 * from the pipeline file's directory.
 */
export function enterConfigDir(pipeline: LoadedPipeline): void {
  process.chdir(pipeline.dir);
}

/** 2 for a wrong command line or pipeline file (nothing ran), 1 for anything else. */
export function exitCodeFor(error: unknown): number {
  if (isFaucetError(error) && ['CONFIG_INVALID', 'USAGE', 'STATE_KEY_INVALID'].includes(error.code))
    return ExitCode.config;
  return ExitCode.failed;
}

/** The text printed for an error: `faucet: <message>`, secrets scrubbed. */
export function errorText(error: unknown, redactor: Redactor = new Redactor()): string {
  const message = isFaucetError(error) ? error.message : errorMessage(error);
  return `faucet: ${redactUrlPasswords(redactor.redact(message))}`;
}

/** The row a command acts on: `--row`, else the only row, else the first row in run order. */
export function pickRow(pipeline: LoadedPipeline, id: string | undefined, purpose: string): LoadedRow {
  if (id !== undefined) {
    const row = pipeline.rowsById.get(id);
    if (!row) {
      throw new UsageError(
        `no row "${id}" in ${pipeline.displayFile}; rows: ${pipeline.rows.map((r) => r.id).join(', ')}`,
      );
    }
    return row;
  }
  const first = pipeline.order
    .map((rowId) => pipeline.rowsById.get(rowId))
    .find((r) => r?.parent === undefined);
  if (!first) throw new UsageError(`${pipeline.displayFile} has no row to ${purpose}`);
  return first;
}

/** Errors already shown to the user (as JSON); the top level exits with their code without printing them again. */
const reported = new WeakSet<object>();

export function wasReported(error: unknown): boolean {
  return typeof error === 'object' && error !== null && reported.has(error);
}

/**
 * With `--output json`, a pipeline file that cannot be loaded gets its answer as JSON on stdout
 * (`{"status": "invalid", "error": {…, "issues": [{file, line, column, path, message}]}}`) and is not
 * printed a second time as text on stderr.
 */
export async function loadOrReport<T>(
  load: () => Promise<T>,
  output: string | undefined,
  io: CliIo,
): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (output === 'json' && isFaucetError(error)) {
      const issues =
        error instanceof PipelineFileError
          ? error.located.map((i) => ({
              file: error.file,
              line: i.line ?? null,
              column: i.column ?? null,
              path: i.path,
              message: i.message,
            }))
          : [];
      writeLine(
        io.stdout,
        JSON.stringify({
          status: 'invalid',
          error: { code: String(error.code), message: error.message, issues },
        }),
      );
      reported.add(error);
    }
    throw error;
  }
}
