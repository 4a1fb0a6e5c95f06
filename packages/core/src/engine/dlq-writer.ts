/** Writing dead letters to the DLQ sink, and making them durable before a bookmark passes them (I4). */
import { ErrorCodes, errorMessage, FaucetError } from '../errors.js';
import { SpanNames } from '../observability.js';
import type { WriteResult } from '../types.js';
import type { DlqEnvelope } from './dlq.js';
import { failingAs } from './failures.js';
import type { DlqOptions } from './options.js';
import type { RunContext } from './run-context.js';

export interface DlqWriter {
  /** Write envelopes; every one must be accepted, or the run fails (a DLQ that drops rows loses them). */
  write(envelopes: DlqEnvelope[]): Promise<void>;
  /** Flush the DLQ sink when something was written since the last flush. */
  flush(): Promise<void>;
}

export function createDlqWriter(run: RunContext, dlq: DlqOptions | undefined): DlqWriter {
  let dirty = false;
  const { names } = run;
  return {
    async write(envelopes) {
      if (!dlq || envelopes.length === 0) return;
      const result: WriteResult | undefined | void = await failingAs(
        'dlqWrite',
        names,
        { rows: envelopes.length },
        () =>
          run.telemetry.span(SpanNames.dlqWrite, { connector: names.dlq }, () =>
            dlq.sink.write(envelopes, { signal: run.teardown.signal, logger: run.logger }),
          ),
      );
      if (result?.failed && result.failed.length > 0) {
        throw new FaucetError(
          `dlq sink "${names.dlq}" rejected ${result.failed.length} of ${envelopes.length} dead-lettered rows: ` +
            errorMessage(result.failed[0]?.error),
          { code: ErrorCodes.DLQ_WRITE_FAILED, connector: names.dlq },
        );
      }
      dirty = true;
      run.stats.recordsDeadLettered += envelopes.length;
      run.telemetry.dlqRecords(envelopes.length);
    },
    async flush() {
      const flush = dlq?.sink.flush;
      if (!flush || !dirty) return;
      await failingAs('dlqFlush', names, {}, () => run.withRetry('dlq flush', () => flush.call(dlq.sink)));
      dirty = false;
    },
  };
}
