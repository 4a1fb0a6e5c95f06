/**
 * BigQuery jobs (load and query): created with an id we choose (`jobs.insert`, or the upload endpoint
 * for a load with data), polled to DONE, their errors surfaced. A create that meets "Already Exists"
 * (HTTP 409) for our id means a job with exactly this id was created before, by an earlier attempt or
 * an earlier run: we follow that job instead of starting another.
 */
import type { Readable } from 'node:stream';
import { abortableSleep, SinkError } from '@faucet/core';
import type { SinkContext } from './context.js';
import { type ApiErrorItem, apiFailure, CONNECTOR, isRetryableApiError } from './errors.js';
import { SCOPE_LABEL, tokenFromLabels } from './tokens.js';

export interface JobReference {
  projectId?: string;
  jobId: string;
  location?: string;
}

export interface JobResource {
  jobReference?: JobReference;
  configuration?: { labels?: Record<string, string> };
  status?: { state?: string; errorResult?: ApiErrorItem; errors?: ApiErrorItem[] };
  statistics?: {
    creationTime?: string;
    load?: { outputRows?: string };
    query?: { numDmlAffectedRows?: string };
  };
}

export interface JobSpec {
  jobId: string;
  /** `configuration` of the job resource (`load` or `query`, plus `labels`). */
  configuration: Record<string, unknown>;
  /** For a load with data: a fresh stream of it for every attempt. */
  data?: () => Readable;
  /** What the job does, for messages: `load job into p.d.t`. */
  what: string;
}

export interface CreatedJob {
  job: JobResource;
  /** True when the id already existed before this call tried to create it. */
  preexisting: boolean;
}

const errorText = (e: ApiErrorItem | undefined): string =>
  e ? `${e.reason ?? 'error'}${e.location ? ` at ${e.location}` : ''}: ${e.message ?? ''}` : '';

/** The error of a job that ended in failure: its errorResult and its first few errors. */
export function jobFailed(ctx: SinkContext, job: JobResource, what: string): SinkError {
  const status = job.status ?? {};
  const first = (status.errors ?? []).slice(0, 5).map(errorText);
  const main = errorText(status.errorResult);
  const rest = first.filter((e) => e !== main);
  return new SinkError(
    ctx.redactor.redact(
      `bigquery sink: ${what} (job ${job.jobReference?.jobId ?? '?'}) failed: ${main}` +
        (rest.length > 0 ? `; first errors: ${rest.join('; ')}` : ''),
    ),
    { connector: CONNECTOR, retryable: false },
  );
}

const jobPath = (id: string): string => `/jobs/${encodeURIComponent(id)}`;

export async function getJob(ctx: SinkContext, ref: JobReference): Promise<JobResource> {
  const location = ref.location ?? ctx.config.location;
  return ctx.attempt(`reading job ${ref.jobId}`, (api) =>
    api.call<JobResource>('GET', jobPath(ref.jobId), location ? { query: { location } } : {}),
  );
}

/** Create the job; when its id exists already, the existing job. */
export async function createJob(ctx: SinkContext, spec: JobSpec): Promise<CreatedJob> {
  const location = ctx.config.location;
  const resource = {
    jobReference: { projectId: ctx.ref.projectId, jobId: spec.jobId, ...(location ? { location } : {}) },
    configuration: spec.configuration,
  };
  let calls = 0;
  let conflict = false;
  const job = await ctx.attempt(
    `starting the ${spec.what}`,
    async (api) => {
      calls += 1;
      try {
        return spec.data
          ? await api.upload<JobResource>(resource, spec.data())
          : await api.call<JobResource>('POST', '/jobs', { body: resource });
      } catch (error) {
        if (apiFailure(error)?.status !== 409) throw error;
        conflict = true;
        return undefined;
      }
    },
    // A retry re-sends the same job id: if the first attempt did reach BigQuery, the retry meets 409.
    { retryable: isRetryableApiError },
  );
  if (job && !conflict) return { job, preexisting: false };
  const existing = await getJob(ctx, { jobId: spec.jobId, ...(location ? { location } : {}) });
  // 409 on the very first call: the id was taken before we came. On a retry: by our own first call.
  return { job: existing, preexisting: calls === 1 };
}

/** Poll until the job is DONE (or `job_timeout_ms` passes); returns the final resource. */
export async function waitForJob(ctx: SinkContext, job: JobResource, what: string): Promise<JobResource> {
  const ref = job.jobReference;
  if (!ref) throw new SinkError(`bigquery sink: the ${what} came back without a job reference`);
  const deadline = Date.now() + ctx.config.job_timeout_ms;
  let current = job;
  while (current.status?.state !== 'DONE') {
    if (Date.now() > deadline) {
      throw new SinkError(
        `bigquery sink: the ${what} (job ${ref.jobId}) is still ${current.status?.state ?? 'running'} after ` +
          `${ctx.config.job_timeout_ms} ms (job_timeout_ms); the next run finds it by its id`,
        { connector: CONNECTOR, retryable: false },
      );
    }
    await abortableSleep(ctx.config.job_poll_ms, ctx.signal);
    current = await getJob(ctx, ref);
  }
  return current;
}

export interface Replay {
  /** The id to use after a failed or stale job with the previous one: `_r1`, `_r2`, … */
  next: (retry: number) => string;
  /** When the target table was created (ms): a job of this id created before then wrote elsewhere. */
  notBefore: number;
}

const createdAt = (job: JobResource): number => Number(job.statistics?.creationTime ?? 0) || 0;

/**
 * Run a job to DONE and fail on its errors. With `replay`, a job id an earlier run used is followed:
 * DONE without errors means the page is committed already. When that job failed, or ran before the
 * target table was (re)created, the next id of a fixed sequence (`_r1`, `_r2`, …) is used, so a
 * page whose load failed once (its table since fixed) can still be committed and a replay still
 * finds it.
 */
export async function runJob(
  ctx: SinkContext,
  spec: JobSpec,
  replay?: Replay,
): Promise<{ job: JobResource; alreadyDone: boolean }> {
  for (let retry = 0; ; retry++) {
    const jobId = retry === 0 || !replay ? spec.jobId : replay.next(retry);
    const { job, preexisting } = await createJob(ctx, { ...spec, jobId });
    const done = await waitForJob(ctx, job, spec.what);
    const stale = preexisting && replay !== undefined && createdAt(done) < replay.notBefore;
    if (!done.status?.errorResult && !stale) return { job: done, alreadyDone: preexisting };
    if (!preexisting || !replay || retry >= 20) throw jobFailed(ctx, done, spec.what);
    ctx.logger.warn(
      stale
        ? 'bigquery sink: a job with this id ran before the table was created; submitting the page again'
        : 'bigquery sink: a job with this id failed in an earlier run; submitting the page again',
      { job_id: jobId, ...(stale ? {} : { error: errorText(done.status?.errorResult) }) },
    );
  }
}

interface JobList {
  jobs?: JobResource[];
  nextPageToken?: string;
}

/**
 * The newest successful job of ours for a scope label, searched among the last `limit` jobs of the
 * project (`jobs.list` lists newest first), and the token its labels spell. Jobs older than
 * `notBefore` wrote into an earlier table of the same name (dropped since): the search ends there.
 */
export async function lastJobToken(
  ctx: SinkContext,
  label: string,
  limit: number,
  notBefore: number,
): Promise<string | undefined> {
  let seen = 0;
  let pageToken: string | undefined;
  while (seen < limit) {
    const page: JobList = await ctx.attempt('searching the job history for the last commit token', (api) =>
      api.call<JobList>('GET', '/jobs', {
        query: {
          projection: 'full',
          stateFilter: 'done',
          maxResults: Math.min(1000, limit - seen),
          ...(pageToken ? { pageToken } : {}),
        },
      }),
    );
    for (const job of page.jobs ?? []) {
      const labels = job.configuration?.labels;
      if (createdAt(job) < notBefore) return undefined;
      if (labels?.[SCOPE_LABEL] === label && !job.status?.errorResult) return tokenFromLabels(labels);
    }
    seen += page.jobs?.length ?? 0;
    if (!page.nextPageToken || (page.jobs?.length ?? 0) === 0) return undefined;
    pageToken = page.nextPageToken;
  }
  return undefined;
}
