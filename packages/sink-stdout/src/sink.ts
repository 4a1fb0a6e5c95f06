/**
 * The stdout sink: records printed as they are written, with backpressure (a write waits for the
 * stream to drain, so a slow reader slows the pipeline instead of filling memory). `max_records`
 * turns it into a preview: later records are dropped. The stream is never ended: the process owns
 * stdout and stderr.
 */
import type { Writable } from 'node:stream';
import { ErrorCodes, type FaucetRecord, type Logger, type Sink, SinkError, silentLogger } from '@faucet/core';
import { type CsvEncoder, createCsvEncoder, encodeJsonlText } from '@faucet/formats';
import type { StdoutSinkConfig } from './config.js';

export interface StdoutSinkOptions {
  /** Write here instead of process.stdout / process.stderr (tests, embedding). */
  stream?: Writable;
  logger?: Logger;
}

export interface StdoutSink extends Sink {
  /** Records printed so far (at most `max_records`). */
  readonly printed: number;
}

function describe(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (code === 'EPIPE') return 'the reader closed it (EPIPE)';
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

export function createStdoutSink(config: StdoutSinkConfig, options: StdoutSinkOptions = {}): StdoutSink {
  const stream = options.stream ?? (config.destination === 'stderr' ? process.stderr : process.stdout);
  const logger = options.logger ?? silentLogger;
  const limit = config.max_records ?? Number.POSITIVE_INFINITY;
  let printed = 0;
  let dropped = false;
  let broken: unknown;
  // Without a listener an EPIPE would crash the process; keep it and fail the next write instead.
  const onError = (error: unknown) => {
    broken ??= error;
  };
  stream.on('error', onError);

  let table: CsvEncoder | undefined;
  if (config.format === 'csv' || config.format === 'tsv') {
    table = createCsvEncoder({
      style: config.format,
      header: config.header,
      // A preview should show what it can rather than stop at a field the first batch did not have.
      onUnknownField: 'ignore',
      name: config.destination,
    });
  }
  const encode = (records: FaucetRecord[]): string => {
    if (table) return table.encode(records);
    if (config.format === 'pretty') {
      let out = '';
      for (const record of records) out += `${JSON.stringify(record, null, 2)}\n`;
      return out;
    }
    return encodeJsonlText(records);
  };

  const failure = (error: unknown, code: string): SinkError =>
    new SinkError(`cannot write to ${config.destination}: ${describe(error)}`, {
      code,
      connector: 'stdout',
      cause: error,
    });

  /** Resolves once `stream` has taken everything written before (the write callback order). */
  const settled = (): Promise<void> =>
    new Promise((resolve, reject) => {
      if (broken) return reject(failure(broken, ErrorCodes.SINK_FLUSH_FAILED));
      if (stream.destroyed || stream.writableEnded) return resolve();
      stream.write('', (error) => (error ? reject(failure(error, ErrorCodes.SINK_FLUSH_FAILED)) : resolve()));
    });

  const drained = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const done = (error?: unknown) => {
        stream.off('drain', onDrain);
        stream.off('error', onFail);
        stream.off('close', onDrain);
        if (error) reject(failure(error, ErrorCodes.SINK_WRITE_FAILED));
        else resolve();
      };
      const onDrain = () => done(broken);
      const onFail = (error: unknown) => done(error);
      stream.once('drain', onDrain);
      stream.once('error', onFail);
      stream.once('close', onDrain);
    });

  return {
    get printed() {
      return printed;
    },
    async write(records) {
      if (broken) throw failure(broken, ErrorCodes.SINK_WRITE_FAILED);
      if (printed >= limit) {
        if (!dropped && records.length > 0) {
          dropped = true;
          logger.info('max_records reached; further records are not printed', { max_records: limit });
        }
        return;
      }
      const take = records.length <= limit - printed ? records : records.slice(0, limit - printed);
      printed += take.length;
      const text = encode(take);
      if (text === '') return;
      if (!stream.write(text)) await drained();
    },
    flush: settled,
    async close() {
      try {
        await settled();
      } finally {
        stream.off('error', onError);
      }
    },
  };
}
