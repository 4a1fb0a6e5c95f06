/** The errors of loading and running pipeline files: all FaucetError subclasses, so scripts can match on a stable `code`. */
import { ConfigError, type ConfigIssue, FaucetError } from '@faucet/core';

/** A config problem with the place it was written. */
export interface LocatedIssue extends ConfigIssue {
  line?: number;
  column?: number;
}

function place(file: string, issue: LocatedIssue): string {
  if (issue.line === undefined) return file;
  return issue.column === undefined ? `${file}:${issue.line}` : `${file}:${issue.line}:${issue.column}`;
}

/** One line per problem: `file:line:col path: message` (messages spanning lines are indented). */
export function formatLocatedIssue(file: string, issue: LocatedIssue): string {
  const text = issue.path ? `${issue.path}: ${issue.message}` : issue.message;
  return `${place(file, issue)} ${text.split('\n').join('\n    ')}`;
}

/**
 * A pipeline file that cannot run. Lists every problem found, each with its file, line and config
 * path, so one edit-and-retry fixes them all.
 */
export class PipelineFileError extends ConfigError {
  readonly file: string;
  readonly located: readonly LocatedIssue[];

  constructor(file: string, issues: readonly LocatedIssue[]) {
    super(
      issues.map((issue) => ({ path: issue.path, message: issue.message })),
      { context: `invalid pipeline file ${file}` },
    );
    this.file = file;
    this.located = issues;
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    this.message =
      `invalid pipeline file ${file} (${count}):\n` +
      issues.map((issue) => `  ${formatLocatedIssue(file, issue)}`).join('\n');
  }
}

/** A command line that cannot be carried out (a missing file, a bad option value). */
export class UsageError extends FaucetError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: 'USAGE' });
  }
}

/** A connector package that is not installed (or installed but unusable). */
export class ConnectorNotFoundError extends FaucetError {
  readonly tried: readonly string[];
  readonly suggestions: readonly string[];

  constructor(message: string, tried: readonly string[], suggestions: readonly string[]) {
    super(message, { code: 'CONNECTOR_NOT_FOUND' });
    this.tried = tried;
    this.suggestions = suggestions;
  }
}

/** A connector package that was found but could not be loaded or does not hold a descriptor. */
export class ConnectorLoadError extends FaucetError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { ...options, code: 'CONNECTOR_INVALID' });
  }
}
