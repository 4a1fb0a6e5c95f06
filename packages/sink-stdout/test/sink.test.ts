import { PassThrough, Writable } from 'node:stream';
import { ConfigError, isFaucetError, validateConfig } from '@faucet/core';
import { describe, expect, it, vi } from 'vitest';
import stdoutSinkDescriptor, {
  createStdoutSink,
  type StdoutSinkConfigInput,
  stdoutSinkConfigSchema,
} from '../src/index.js';

const ctx = {
  signal: new AbortController().signal,
  logger: { debug() {}, info() {}, warn() {}, error() {} },
};
const RECORDS = [
  { id: 1, name: 'Ada, "the first"', tags: ['x'] },
  { id: 2, name: 'tab\there', extra: null },
];

function capture(config: StdoutSinkConfigInput) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  const sink = createStdoutSink(stdoutSinkConfigSchema.parse(config), { stream });
  return { sink, output: () => text };
}

describe('stdout sink formats', () => {
  it('prints JSON Lines by default', async () => {
    const { sink, output } = capture({});
    await sink.write(RECORDS, ctx);
    await sink.close?.();
    expect(output()).toBe(`${JSON.stringify(RECORDS[0])}\n${JSON.stringify(RECORDS[1])}\n`);
  });

  it('prints indented JSON with format: pretty', async () => {
    const { sink, output } = capture({ format: 'pretty' });
    await sink.write(RECORDS.slice(0, 1), ctx);
    await sink.flush?.();
    expect(output()).toBe(`${JSON.stringify(RECORDS[0], null, 2)}\n`);
  });

  it('prints CSV and TSV tables with a header from the first batch', async () => {
    const csv = capture({ format: 'csv' });
    await csv.sink.write(RECORDS, ctx);
    await csv.sink.write([{ id: 3, unknown: 'dropped' }], ctx);
    await csv.sink.flush?.();
    expect(csv.output()).toBe('id,name,tags,extra\n1,"Ada, ""the first""","[""x""]",\n2,tab\there,,\n3,,,\n');
    const tsv = capture({ format: 'tsv', header: false });
    await tsv.sink.write(RECORDS, ctx);
    await tsv.sink.flush?.();
    expect(tsv.output()).toBe('1\tAda, "the first"\t["x"]\t\n2\ttab\\there\t\t\n');
  });
});

describe('stdout sink limits, backpressure and errors', () => {
  it('prints at most max_records across batches and drops the rest', async () => {
    const { sink, output } = capture({ max_records: 3 });
    await sink.write([{ i: 1 }, { i: 2 }], ctx);
    await sink.write([{ i: 3 }, { i: 4 }], ctx);
    await sink.write([{ i: 5 }], ctx);
    await sink.flush?.();
    expect(output()).toBe('{"i":1}\n{"i":2}\n{"i":3}\n');
    expect(sink.printed).toBe(3);
    const none = capture({ max_records: 0 });
    await none.sink.write([{ i: 1 }], ctx);
    await none.sink.flush?.();
    expect(none.output()).toBe('');
  });

  it('waits for a slow reader before taking more (backpressure)', async () => {
    const received: string[] = [];
    let release: () => void = () => {};
    const slow = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer, _encoding, callback) {
        received.push(chunk.toString());
        release = callback; // the reader takes its time
      },
    });
    const sink = createStdoutSink(stdoutSinkConfigSchema.parse({}), { stream: slow });
    let done = false;
    const writing = sink.write([{ pad: 'x'.repeat(100) }], ctx).then(() => {
      done = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(done).toBe(false);
    release();
    await writing;
    expect(done).toBe(true);
    expect(received).toHaveLength(1);
  });

  it('turns a closed pipe (EPIPE) into a SinkError instead of crashing', async () => {
    const broken = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      },
    });
    const sink = createStdoutSink(stdoutSinkConfigSchema.parse({}), { stream: broken });
    await sink.write([{ a: 1 }], ctx).catch(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    const error = await sink.write([{ a: 2 }], ctx).catch((e) => e);
    expect(isFaucetError(error)).toBe(true);
    expect(error.code).toBe('SINK_WRITE_FAILED');
    expect(error.message).toBe('cannot write to stdout: the reader closed it (EPIPE)');
  });

  it('writes to process.stderr with destination: stderr, and never ends the stream', async () => {
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const sink = createStdoutSink(stdoutSinkConfigSchema.parse({ destination: 'stderr' }));
      await sink.write([{ a: 1 }], ctx);
      expect(spy).toHaveBeenCalledWith('{"a":1}\n');
    } finally {
      spy.mockRestore();
    }
    expect(process.stderr.writableEnded).toBe(false);
  });

  it('validates its config through the descriptor', async () => {
    const error = await validateConfig(stdoutSinkDescriptor, { format: 'xml', max_records: -1 }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.issues.map((i: { path: string }) => i.path).sort()).toEqual(['format', 'max_records']);
    expect(await validateConfig(stdoutSinkDescriptor, {})).toEqual({
      format: 'jsonl',
      destination: 'stdout',
      header: true,
    });
  });
});
