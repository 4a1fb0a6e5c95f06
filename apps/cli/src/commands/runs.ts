/**
 * `faucet runs list|show|cancel --queue redis://…`: the runs submitted with `faucet run --queue`,
 * where their jobs stand, and cancelling one (jobs not started are removed; running ones finish
 * their page, store the checkpoint and end cancelled).
 */
import { UsageError } from '@faucet/pipeline';
import type { InvocationQueue, SubmittedRun } from '@faucet/runner-bullmq';
import { type CliIo, ExitCode, writeLine } from '../io.js';

export interface RunsOptions {
  queue: string;
  queueName?: string;
  output?: 'text' | 'json';
}

type Runner = typeof import('@faucet/runner-bullmq');

async function withQueue<T>(
  options: RunsOptions,
  use: (runner: Runner, queue: InvocationQueue) => Promise<T>,
): Promise<T> {
  const runner: Runner = await import('@faucet/runner-bullmq');
  await runner.probeRedis(options.queue);
  const queue = runner.openQueue({
    url: options.queue,
    ...(options.queueName ? { queueName: options.queueName } : {}),
  });
  try {
    return await use(runner, queue);
  } finally {
    await queue.close();
  }
}

async function findRun(runner: Runner, queue: InvocationQueue, runId: string): Promise<SubmittedRun> {
  const run = await runner.loadRun(queue, runId);
  if (!run) throw new UsageError(`no run ${runId} on queue "${queue.name}" (runs are kept a week)`);
  return run;
}

const countsText = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');

export function runsListCommand(options: RunsOptions, io: CliIo): Promise<number> {
  return withQueue(options, async (runner, queue) => {
    const runs = await runner.listRuns(queue);
    const rows = [];
    for (const run of runs) {
      const counts = runner.countStates(await runner.runStatus(queue, run));
      rows.push({ run_id: run.runId, submitted_at: run.submittedAt, pipeline: run.pipeline, jobs: counts });
      if (options.output !== 'json') {
        writeLine(io.stdout, `${run.runId}  ${run.submittedAt}  ${run.pipeline}  ${countsText(counts)}`);
      }
    }
    if (options.output === 'json') writeLine(io.stdout, JSON.stringify(rows));
    else if (runs.length === 0) writeLine(io.stderr, `no runs on queue "${queue.name}"`);
    return ExitCode.ok;
  });
}

export function runsShowCommand(runId: string, options: RunsOptions, io: CliIo): Promise<number> {
  return withQueue(options, async (runner, queue) => {
    const run = await findRun(runner, queue, runId);
    const statuses = await runner.runStatus(queue, run);
    const jobs = statuses.map(({ job, state, ended }) => ({
      state_key: job.stateKey,
      state,
      attempts: ended?.attempts ?? null,
      worker: ended?.outcome?.worker ?? null,
      records_written: (ended?.outcome?.result?.recordsWritten as number | undefined) ?? null,
      error: ended?.outcome?.error?.message ?? (ended?.status === 'ok' ? null : (ended?.reason ?? null)),
    }));
    if (options.output === 'json') {
      writeLine(
        io.stdout,
        JSON.stringify({ run_id: run.runId, pipeline: run.pipeline, file: run.file, jobs }),
      );
      return ExitCode.ok;
    }
    writeLine(io.stdout, `run ${run.runId}: ${run.pipeline} (${run.file}), submitted ${run.submittedAt}`);
    writeLine(io.stdout, `  ${countsText(runner.countStates(statuses))}`);
    for (const job of jobs) {
      const extra = job.error ? `: ${job.error}` : job.worker ? ` on ${job.worker}` : '';
      writeLine(io.stdout, `  ${job.state_key}: ${job.state}${extra}`);
    }
    return ExitCode.ok;
  });
}

export function runsCancelCommand(runId: string, options: RunsOptions, io: CliIo): Promise<number> {
  return withQueue(options, async (runner, queue) => {
    const run = await findRun(runner, queue, runId);
    const result = await runner.cancelRun(queue, run);
    if (options.output === 'json') {
      writeLine(io.stdout, JSON.stringify({ run_id: run.runId, ...result }));
    } else {
      writeLine(
        io.stdout,
        `run ${run.runId}: ${result.removed.length} job(s) removed before starting, ${result.signalled.length} ` +
          `running told to stop after their current page, ${result.ended.length} had ended`,
      );
    }
    return ExitCode.ok;
  });
}
