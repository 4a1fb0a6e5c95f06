/**
 * What a queued run refuses before anything is submitted: state only this machine can see (the
 * memory and file stores, or no store) would let two workers run one state key from different
 * bookmarks, and DAG children and `depends_on` ordering are not queued yet.
 */
import { type LoadedPipeline, type LocatedIssue, PipelineFileError } from '@faucet/pipeline';

/** State store types that live on one machine. */
const LOCAL_STATE = new Set(['memory', 'file']);

export function queueIssues(pipeline: LoadedPipeline): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  for (const row of pipeline.rows) {
    const state = row.state;
    if (state === undefined) {
      issues.push({
        path: `${row.at}.state`,
        message:
          'a run on a queue needs a shared state store (redis or postgres): without one each worker would ' +
          'start every row from the beginning',
      });
    } else if (LOCAL_STATE.has(state.type)) {
      issues.push({
        path: `${state.at}.type`,
        message:
          `the "${state.type}" state store lives on one machine; a run on a queue needs a shared one ` +
          '(redis or postgres) so any worker resumes from the stored bookmark',
      });
    }
    if (row.parent !== undefined || row.dependsOn.length > 0) {
      issues.push({
        path: row.parent !== undefined ? `${row.at}.parent` : `${row.at}.depends_on`,
        message: 'DAG children and depends_on are not run on a queue yet; run this file without --queue',
      });
    }
  }
  return issues;
}

/** Throws PipelineFileError (exit code 2 in the CLI) listing every reason the file cannot be queued. */
export function assertQueueable(pipeline: LoadedPipeline): void {
  const issues = queueIssues(pipeline);
  if (issues.length > 0) throw new PipelineFileError(pipeline.displayFile, pipeline.placeIssues(issues));
}
