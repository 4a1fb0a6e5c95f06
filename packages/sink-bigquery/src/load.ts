/**
 * Append with load jobs. At-least-once: `write` stages rows as NDJSON on disk and `flush` (before
 * every checkpoint) loads the rolling group with one job and waits for it, so the group is durable
 * before the bookmark that passes it; a group past `load_max_bytes` is loaded without waiting.
 * Effectively-once: every page is one job whose id comes from the commit token and the page's bytes.
 */
import type { CommitScope, FaucetRecord, Logger, RowFailure, WriteResult } from '@faucet/core';
import type { SinkContext, TableRef } from './context.js';
import { runJob } from './jobs.js';
import { convertRows } from './rows.js';
import type { TableField } from './schema.js';
import { NdjsonStage, type SealedStage, sealedStageOf, stageRows } from './stage.js';
import type { TargetManager } from './target.js';
import { pageJobId, randomJobId, tokenFits, tokenLabels } from './tokens.js';

/** `configuration.load` of an NDJSON load job. */
export function loadConfiguration(
  table: TableRef,
  disposition: 'WRITE_APPEND' | 'WRITE_TRUNCATE',
  fields?: TableField[],
): Record<string, unknown> {
  return {
    destinationTable: table,
    sourceFormat: 'NEWLINE_DELIMITED_JSON',
    writeDisposition: disposition,
    createDisposition: fields ? 'CREATE_IF_NEEDED' : 'CREATE_NEVER',
    ...(fields ? { schema: { fields } } : {}),
  };
}

/** Job labels that carry a commit token; warns once when a token is too long for them. */
export function createLabeler(
  ref: TableRef,
  logger: Logger,
): (commit: CommitScope) => Record<string, string> {
  let warned = false;
  return (commit) => {
    if (!warned && !tokenFits(commit.token)) {
      warned = true;
      logger.warn(
        'bigquery sink: the commit token is too long for job labels; resuming relies on job ids alone',
        {},
      );
    }
    return tokenLabels(ref, commit.scope, commit.token);
  };
}

export interface Loader {
  write(records: FaucetRecord[], commit?: CommitScope): Promise<WriteResult>;
  /** Load what is staged and wait for the job. */
  flush(): Promise<void>;
  /** Forget what is staged (never confirmed to the engine). */
  discard(): Promise<void>;
}

export function createLoader(ctx: SinkContext, targets: TargetManager): Loader {
  const { config, ref, display, logger } = ctx;
  const labels = createLabeler(ref, logger);
  let stage: NdjsonStage | undefined;
  /**
   * A sealed group whose job has not succeeded yet, with the job id chosen for it. It is kept until
   * the job succeeds, so a flush the engine retries loads the same rows under the same id (a first
   * attempt that did get through is then found, not repeated); a flush never reports success for
   * rows it has not loaded.
   */
  let pending: { sealed: SealedStage; jobId: string } | undefined;

  const specOf = (sealed: SealedStage, commit?: CommitScope) => ({
    configuration: {
      load: loadConfiguration(ref, 'WRITE_APPEND'),
      ...(commit ? { labels: labels(commit) } : {}),
    },
    data: sealed.open,
    what: `load job of ${sealed.rows} rows into ${display}`,
  });

  /** One page under a job id derived from its commit token and bytes (effectively-once). */
  async function loadPage(sealed: SealedStage, createdAt: number, commit: CommitScope): Promise<void> {
    const idFor = (retry: number) =>
      pageJobId(config.job_id_prefix, ref, commit.scope, commit.token, sealed.digest, retry);
    try {
      const { alreadyDone } = await runJob(
        ctx,
        { ...specOf(sealed, commit), jobId: idFor(0) },
        { next: idFor, notBefore: createdAt },
      );
      if (alreadyDone)
        logger.info('bigquery sink: an earlier run loaded this page (same job id)', { table: display });
    } finally {
      // A retried page is staged again from its records: same bytes, same id.
      await sealed.remove();
    }
  }

  async function flush(): Promise<void> {
    if (!pending) {
      const current = stage;
      if (!current || current.rows === 0) return;
      stage = undefined;
      pending = { sealed: await current.seal(), jobId: randomJobId(config.job_id_prefix) };
    }
    const { sealed, jobId } = pending;
    await runJob(ctx, { ...specOf(sealed), jobId });
    pending = undefined;
    await sealed.remove();
  }

  return {
    flush,
    async write(records, commit) {
      const failures: RowFailure[] = [];
      const table = await targets.prepare(records);
      if (!table || records.length === 0) return {};
      const rows = convertRows(
        records.map((record, index) => ({ index, record })),
        targets.convertOptions(table, 'load'),
        failures,
      );
      if (commit) {
        // An effectively-once page commits whole or not at all.
        if (failures.length > 0) return { failed: failures };
        if (rows.length > 0)
          await loadPage(await sealedStageOf(config.staging_dir, rows), table.createdAt, commit);
        return {};
      }
      // A group that failed to load is loaded (or fails again) before more rows are staged.
      if (pending) await flush();
      stage ??= new NdjsonStage(config.staging_dir);
      await stageRows(stage, rows);
      if (stage.bytes >= config.load_max_bytes) await flush();
      return failures.length > 0 ? { failed: failures } : {};
    },
    async discard() {
      await stage?.discard();
      await pending?.sealed.remove();
      stage = undefined;
      pending = undefined;
    },
  };
}
