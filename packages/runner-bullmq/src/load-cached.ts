/**
 * The pipeline file a job names, loaded once per worker and file version: the job carries the
 * hash of the text that was submitted, and a worker whose copy differs refuses the job rather
 * than run another pipeline under the same state key.
 */
import { dirname } from 'node:path';
import { silentLogger } from '@faucet/core';
import { assertRunnable, type LoadedPipeline, loadPipeline, type PipelineHost } from '@faucet/pipeline';
import { JobRefusedError } from './errors.js';
import { fileHash } from './submit.js';
import type { InvocationJobData } from './types.js';

export interface PipelineCacheOptions {
  env: NodeJS.ProcessEnv;
  host?: PipelineHost;
}

export function createPipelineCache(options: PipelineCacheOptions) {
  const loaded = new Map<string, Promise<LoadedPipeline>>();

  async function load(file: string): Promise<LoadedPipeline> {
    const pipeline = await loadPipeline(file, {
      env: options.env,
      cwd: dirname(file),
      ...(options.host ? { host: options.host } : {}),
    });
    await assertRunnable(pipeline, silentLogger);
    return pipeline;
  }

  return {
    async pipelineFor(data: InvocationJobData): Promise<LoadedPipeline> {
      let hash: string;
      try {
        hash = fileHash(data.file);
      } catch {
        throw new JobRefusedError(`the pipeline file ${data.file} is not on this worker (${hostLabel()})`);
      }
      if (hash !== data.fileHash) {
        throw new JobRefusedError(
          `the pipeline file ${data.file} on this worker (${hostLabel()}) differs from the one submitted; ` +
            'deploy the same file to every worker',
        );
      }
      const key = `${data.file}\u0000${hash}`;
      let pending = loaded.get(key);
      if (!pending) {
        pending = load(data.file);
        loaded.set(key, pending);
        pending.catch(() => loaded.delete(key));
      }
      return pending;
    },
  };
}

function hostLabel(): string {
  return `pid ${process.pid}`;
}
