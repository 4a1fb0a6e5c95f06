/** What a pipeline file becomes once loaded: one plan per matrix row, ready to run. */
import type { DeliveryMode, RecordErrorPolicy } from '@faucet/core';

/** A connector as configured for one row. `config` may hold `${parent.…}` templates (children only). */
export interface ConnectorSpec {
  type: string;
  config: unknown;
  /** Where the block is, e.g. `pipeline.source` or `matrix[1].sink` (for messages). */
  at: string;
}

export interface TransformPlan {
  type: string;
  config: unknown;
  at: string;
}

export interface DlqPlan {
  sink: ConnectorSpec;
  onBatchError?: 'propagate' | 'dlq_all';
  maxFailuresPerPage?: number;
  maxFailuresTotal?: number;
}

export interface RowPlan {
  /** The row id (`row-0` when the file has no matrix; `row-N` for a matrix row without an id). */
  id: string;
  /** `pipeline` without a matrix, else `matrix[N]`. */
  at: string;
  parent?: string;
  /** Dotted path of the parent record's field that names a child's state key (default `id`). */
  parentKey: string;
  dependsOn: string[];
  source: ConnectorSpec;
  sink: ConnectorSpec;
  transforms: TransformPlan[];
  state?: ConnectorSpec;
  dlq?: DlqPlan;
  batchSize?: number;
  delivery?: DeliveryMode;
  /** `checkpoint_every` in milliseconds: store a checkpoint at most this often. */
  checkpointEveryMs?: number;
  /** `on_record_error`: a record the source cannot decode or a transform cannot convert fails the run, or goes to the DLQ. */
  onRecordError?: RecordErrorPolicy;
  /** Rows whose `parent` is this row. */
  children: string[];
  /** Fields of this row's written records that its children read (what is captured, nothing more). */
  capturedFields: string[];
}

export interface ExecutionSettings {
  maxConcurrent: number;
  onError: 'continue' | 'stop';
  /** Queued runs: how many more times a failed invocation's job is tried (0: once). */
  retries: number;
}
