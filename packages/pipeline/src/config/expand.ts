// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are about ${…} interpolation syntax
/**
 * Expanding a pipeline file into row plans: each matrix row deep-merged onto `pipeline` (or one
 * `row-0` plan without a matrix), its DAG links checked, and the parent fields its children read
 * collected so a parent captures only those.
 */
import type { LocatedIssue } from '../errors.js';
import { checkReferences, type DagNode, findCycles, topologicalOrder } from './dag.js';
import { deepMerge, mergeConnectorBlock } from './merge.js';
import type { ConnectorSpec, DlqPlan, ExecutionSettings, RowPlan, TransformPlan } from './plan.js';
import { durationMs, type MatrixRow, type PipelineBlock, type PipelineFile } from './schema.js';
import { findTemplates } from './template.js';

export interface ExpandedPipeline {
  rows: RowPlan[];
  /** Row ids, every row after the rows it waits for. */
  order: string[];
  issues: LocatedIssue[];
}

type Block = { type?: string | undefined; config?: unknown } | undefined;

function connector(
  block: Block,
  at: string,
  what: string,
  issues: LocatedIssue[],
): ConnectorSpec | undefined {
  if (!block?.type) {
    issues.push({ path: `${at}.type`, message: `required: every row needs a ${what} type` });
    return undefined;
  }
  return { type: block.type, config: block.config ?? {}, at };
}

function mergedRow(base: PipelineBlock, row: MatrixRow | undefined) {
  if (!row) return base;
  let dlq = base.dlq ?? undefined;
  if (row.dlq === null) dlq = undefined;
  else if (row.dlq !== undefined) {
    const { sink: rowSink, ...rowRest } = row.dlq;
    const { sink: baseSink, ...baseRest } = base.dlq ?? {};
    dlq = {
      ...(deepMerge(baseRest, rowRest) as object),
      sink: mergeConnectorBlock(baseSink, rowSink),
    } as NonNullable<PipelineBlock['dlq']>;
  }
  return {
    source: mergeConnectorBlock(base.source, row.source) as Block,
    sink: mergeConnectorBlock(base.sink, row.sink) as Block,
    state: mergeConnectorBlock(base.state, row.state) as Block,
    transforms: row.transforms ?? base.transforms,
    dlq,
    batch_size: row.batch_size ?? base.batch_size,
    delivery: row.delivery ?? base.delivery,
    checkpoint_every: row.checkpoint_every ?? base.checkpoint_every,
    on_record_error: row.on_record_error ?? base.on_record_error,
  };
}

/** Row plans in file order plus a run order; problems are collected, never thrown. */
export function expandPipeline(file: PipelineFile): ExpandedPipeline {
  const issues: LocatedIssue[] = [];
  const base: PipelineBlock = file.pipeline ?? {};
  const inputs: Array<{ row: MatrixRow | undefined; at: string; id: string }> = file.matrix
    ? file.matrix.map((row, i) => ({ row, at: `matrix[${i}]`, id: row.id ?? `row-${i}` }))
    : [{ row: undefined, at: 'pipeline', id: 'row-0' }];

  const firstAt = new Map<string, string>();
  for (const { id, at } of inputs) {
    const earlier = firstAt.get(id);
    if (earlier) issues.push({ path: `${at}.id`, message: `duplicate row id "${id}" (also ${earlier})` });
    else firstAt.set(id, at);
  }

  const rows: RowPlan[] = [];
  for (const { row, at, id } of inputs) {
    const merged = mergedRow(base, row);
    const source = connector(merged.source as Block, `${at}.source`, 'source', issues);
    const sink = connector(merged.sink as Block, `${at}.sink`, 'sink', issues);
    const state = merged.state?.type
      ? connector(merged.state as Block, `${at}.state`, 'state', issues)
      : undefined;
    const transforms: TransformPlan[] = (merged.transforms ?? []).map((t, i) => ({
      type: t.type,
      config: t.config ?? {},
      at: `${at}.transforms[${i}]`,
    }));
    let dlq: DlqPlan | undefined;
    if (merged.dlq) {
      const dlqSink = connector(merged.dlq.sink as Block, `${at}.dlq.sink`, 'dlq sink', issues);
      if (dlqSink) {
        dlq = { sink: dlqSink };
        if (merged.dlq.on_batch_error) dlq.onBatchError = merged.dlq.on_batch_error;
        if (merged.dlq.max_failures_per_page !== undefined)
          dlq.maxFailuresPerPage = merged.dlq.max_failures_per_page;
        if (merged.dlq.max_failures_total !== undefined) dlq.maxFailuresTotal = merged.dlq.max_failures_total;
      }
    }
    if (row?.parent_key !== undefined && row.parent === undefined) {
      issues.push({ path: `${at}.parent_key`, message: 'only used with "parent"; this row has no parent' });
    }
    if (!source || !sink) continue;
    const plan: RowPlan = {
      id,
      at,
      parentKey: row?.parent_key ?? 'id',
      dependsOn: row?.depends_on ?? [],
      source,
      sink,
      transforms,
      children: [],
      capturedFields: [],
    };
    if (row?.parent !== undefined) plan.parent = row.parent;
    if (state) plan.state = state;
    if (dlq) plan.dlq = dlq;
    if (merged.batch_size !== undefined) plan.batchSize = merged.batch_size;
    if (merged.delivery !== undefined) plan.delivery = merged.delivery;
    if (merged.checkpoint_every !== undefined) plan.checkpointEveryMs = durationMs(merged.checkpoint_every);
    if (merged.on_record_error !== undefined) plan.onRecordError = merged.on_record_error;
    if (merged.on_record_error === 'dlq' && !dlq) {
      issues.push({
        path: `${at}.on_record_error`,
        message: 'is dlq, but this row has no dlq: add a dlq block, or set on_record_error: fail',
      });
    }
    if (plan.parent === undefined) {
      for (const spec of [source, sink]) {
        for (const { path } of findTemplates(spec.config, `${spec.at}.config`)) {
          issues.push({
            path,
            message: 'uses ${parent.…}, but this row has no "parent" to take the value from',
          });
        }
      }
    }
    rows.push(plan);
  }

  const nodes: DagNode[] = rows.map((r) => ({
    id: r.id,
    at: r.at,
    dependsOn: r.dependsOn,
    ...(r.parent === undefined ? {} : { parent: r.parent }),
  }));
  const referenceIssues = checkReferences(nodes);
  issues.push(...referenceIssues);
  issues.push(...findCycles(nodes));

  const byId = new Map(rows.map((r) => [r.id, r]));
  for (const row of rows) {
    const parent = row.parent === undefined ? undefined : byId.get(row.parent);
    if (!parent || parent === row) continue;
    parent.children.push(row.id);
    const fields = new Set(parent.capturedFields);
    fields.add(row.parentKey);
    for (const spec of [row.source, row.sink]) {
      for (const { template } of findTemplates(spec.config))
        for (const path of template.paths) fields.add(path);
    }
    parent.capturedFields = [...fields];
  }
  return { rows, order: topologicalOrder(nodes), issues };
}

/** `execution:` with its defaults: at most min(CPUs, 4) invocations at once, `on_error: continue`. */
export function executionSettings(file: PipelineFile, cpus: number): ExecutionSettings {
  return {
    maxConcurrent: file.execution?.max_concurrent ?? Math.max(1, Math.min(cpus, 4)),
    onError: file.execution?.on_error ?? 'continue',
    retries: file.execution?.retries ?? 0,
  };
}
