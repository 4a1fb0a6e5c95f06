/**
 * What a queued run refuses before anything is submitted: state only this machine can see (the
 * memory and file stores, or no store) would let two workers run one state key from different
 * bookmarks. DAG children and `depends_on` between rows without a parent run on a queue; what does
 * not yet is refused with its reason: `depends_on` on or of a DAG child row (a child row's
 * invocations are known only as its parent writes), and `delivery: effectively_once` on a DAG
 * parent (a page the sink committed is skipped on resume, so its children would not be enqueued).
 */
import { type LoadedPipeline, type LoadedRow, type LocatedIssue, PipelineFileError } from '@faucet/pipeline';

/** State store types that live on one machine. */
const LOCAL_STATE = new Set(['memory', 'file']);

function dagIssues(pipeline: LoadedPipeline, row: LoadedRow): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  if (row.parent !== undefined && row.dependsOn.length > 0) {
    issues.push({
      path: `${row.at}.depends_on`,
      message:
        'a DAG child row with depends_on is not run on a queue yet; run this file without --queue, or ' +
        'move the depends_on to its parent row',
    });
  }
  row.dependsOn.forEach((dep, i) => {
    if (pipeline.rowsById.get(dep)?.parent === undefined) return;
    issues.push({
      path: `${row.at}.depends_on[${i}]`,
      message:
        `"${dep}" is a DAG child row; depends_on a child row is not run on a queue yet (its invocations are ` +
        'known only as its parent writes); run this file without --queue',
    });
  });
  if (row.children.length > 0 && row.delivery === 'effectively_once') {
    issues.push({
      path: `${row.at}.delivery`,
      message:
        'a DAG parent with delivery effectively_once is not run on a queue yet (a page its sink committed is ' +
        'skipped on resume, so its children would not be enqueued); use at_least_once with an upsert sink',
    });
  }
  return issues;
}

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
    issues.push(...dagIssues(pipeline, row));
  }
  return issues;
}

/** Throws PipelineFileError (exit code 2 in the CLI) listing every reason the file cannot be queued. */
export function assertQueueable(pipeline: LoadedPipeline): void {
  const issues = queueIssues(pipeline);
  if (issues.length > 0) throw new PipelineFileError(pipeline.displayFile, pipeline.placeIssues(issues));
}
