/**
 * `faucet preview [config] --limit N`: read from the start (no state is read or stored), apply the
 * transforms, and print the first N records as JSON lines on stdout. The sink is not created.
 */
import { createStateStores, loadPipeline, runInvocation, UsageError } from '@faucet/pipeline';
import { cliHost } from '../cli-package.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { createCliLogger } from '../progress.js';
import { enterConfigDir, errorText, pickRow } from './common.js';

export async function previewCommand(
  config: string | undefined,
  options: { limit: number; row?: string },
  io: CliIo,
): Promise<number> {
  const pipeline = await loadPipeline(config, { env: io.env, cwd: io.cwd, host: cliHost() });
  const row = pickRow(pipeline, options.row, 'preview');
  if (row.parent !== undefined) {
    throw new UsageError(
      `row "${row.id}" runs once per record of "${row.parent}", so it has no source of its own to preview; ` +
        `preview "${row.parent}" instead`,
    );
  }
  enterConfigDir(pipeline);
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.on('SIGINT', onSignal);
  const stateStores = createStateStores();
  try {
    const outcome = await runInvocation(
      { pipeline, row, stateKey: row.stateKey },
      {
        signal: controller.signal,
        mode: 'preview',
        limit: options.limit,
        stateStores,
        logger: createCliLogger({ log: (line) => writeLine(io.stderr, line) }, 'warn'),
        output: io.stdout,
      },
    );
    if (outcome.status === 'failed') {
      writeLine(io.stderr, errorText(outcome.error, pipeline.redactor));
      return ExitCode.failed;
    }
    const n = outcome.result?.recordsWritten ?? 0;
    writeLine(io.stderr, `${n} record${n === 1 ? '' : 's'} from row "${row.id}" (nothing stored)`);
    return outcome.status === 'cancelled' ? ExitCode.interrupted : ExitCode.ok;
  } finally {
    process.off('SIGINT', onSignal);
    await stateStores.closeAll();
  }
}
