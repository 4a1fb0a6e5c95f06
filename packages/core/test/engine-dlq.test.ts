import { describe, expect, it } from 'vitest';
import { type FaucetRecord, type JsonValue, Redactor, runPipeline, unwrapState } from '../src/index.js';
import { Boom, countingSource, newStorage, recordingSink, testStore } from './doubles.js';

const ENVELOPE_KEYS = ['error', 'payload', 'pipeline', 'reason', 'record_index', 'row', 'sink', 'ts_ms'];

describe('dead-letter queue', () => {
  it('routes per-row failures with the exact envelope and page positions', async () => {
    const main = newStorage();
    const dead = newStorage();
    const before = Date.now();
    const result = await runPipeline({
      pipeline: 'orders',
      row: 'eu',
      connectors: { sink: 'postgres', source: 'rest' },
      source: countingSource({ total: 30, pageSize: 10 }),
      // Two sink batches per page, so positions must be page positions, not batch positions.
      sink: recordingSink(main, { rejectRow: (r) => [3, 7, 15, 26].includes(r.id as number), batchSize: 5 }),
      dlq: { sink: recordingSink(dead), connector: 'file' },
      batchSize: 10,
    });
    expect(result.status).toBe('ok');
    expect(result.recordsWritten).toBe(26);
    expect(result.recordsDeadLettered).toBe(4);
    expect(main.rows).toHaveLength(26);
    expect(dead.rows).toHaveLength(4);
    for (const envelope of dead.rows) {
      expect(Object.keys(envelope).sort()).toEqual(ENVELOPE_KEYS);
      expect(envelope).toMatchObject({ reason: 'partial', sink: 'postgres', pipeline: 'orders', row: 'eu' });
      expect((envelope.error as { kind: string }).kind).toBe('SINK_ROW_REJECTED');
      expect((envelope.ts_ms as number) >= before).toBe(true);
    }
    expect(dead.rows.map((e) => [(e.payload as FaucetRecord).id, e.record_index])).toEqual([
      [3, 3],
      [7, 7],
      [15, 5],
      [26, 6],
    ]);
    expect((dead.rows[0]?.error as { message: string }).message).toBe('row 3 rejected');
  });

  it('record_index counts positions after transforms', async () => {
    const dead = newStorage();
    await runPipeline({
      source: countingSource({ total: 10, pageSize: 10 }),
      // Drop odd ids: the page the sink sees is [0,2,4,6,8]; id 6 sits at position 3.
      transforms: [(r) => ((r.id as number) % 2 === 1 ? null : { ...r, even: true })],
      sink: recordingSink(newStorage(), { rejectRow: (r) => r.id === 6 }),
      dlq: { sink: recordingSink(dead) },
    });
    expect(dead.rows).toHaveLength(1);
    expect(dead.rows[0]).toMatchObject({ record_index: 3, payload: { id: 6, even: true } });
  });

  it('without a DLQ, a rejected row fails the run before the page is checkpointed', async () => {
    const stateMap = new Map<string, JsonValue>();
    const result = await runPipeline({
      source: countingSource({ total: 30, pageSize: 10 }),
      sink: recordingSink(newStorage(), { rejectRow: (r) => r.id === 15 }),
      state: testStore(stateMap),
      batchSize: 10,
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('ROWS_FAILED_WITHOUT_DLQ');
    expect(result.error?.message).toMatch(
      /rejected 1 of 10 rows in page 2 \(first: row 5: row 15 rejected\)/,
    );
    expect(unwrapState(stateMap.get('unnamed::row-0')).bookmark).toEqual({ offset: 10 });
  });

  it('on_batch_error propagate (default) fails the run on a whole-batch failure', async () => {
    const dead = newStorage();
    const result = await runPipeline({
      source: countingSource({ total: 30, pageSize: 10 }),
      sink: recordingSink(newStorage(), { failWriteAt: 2 }),
      dlq: { sink: recordingSink(dead) },
      batchSize: 10,
    });
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('injected failure: write 2');
    expect(dead.rows).toHaveLength(0);
  });

  it('on_batch_error dlq_all dead-letters every row of a failed batch and keeps going', async () => {
    const main = newStorage();
    const dead = newStorage();
    const result = await runPipeline({
      source: countingSource({ total: 30, pageSize: 10 }),
      sink: recordingSink(main, { failWriteAt: 2 }),
      dlq: { sink: recordingSink(dead), onBatchError: 'dlq_all' },
      batchSize: 10,
    });
    expect(result.status).toBe('ok');
    expect(main.rows.map((r) => r.id)).toEqual([
      ...Array(10).keys(),
      ...Array.from({ length: 10 }, (_, i) => 20 + i),
    ]);
    expect(dead.rows).toHaveLength(10);
    expect(dead.rows.map((e) => e.record_index)).toEqual([...Array(10).keys()]);
    for (const envelope of dead.rows) {
      expect(envelope).toMatchObject({
        reason: 'dlq_all',
        error: { kind: 'SINK_WRITE_FAILED', message: 'injected failure: write 2' },
      });
    }
  });

  it('max_failures_per_page: the page is finished and checkpointed, then the run fails', async () => {
    const main = newStorage();
    const dead = newStorage();
    const stateMap = new Map<string, JsonValue>();
    const result = await runPipeline({
      source: countingSource({ total: 50, pageSize: 10 }),
      // Page 1: one failure; page 2: three failures (over a budget of 2).
      sink: recordingSink(main, { rejectRow: (r) => [1, 11, 12, 13].includes(r.id as number) }),
      dlq: { sink: recordingSink(dead), maxFailuresPerPage: 2 },
      state: testStore(stateMap),
      batchSize: 10,
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('DLQ_BUDGET_EXCEEDED');
    expect(result.error?.message).toContain('page 2 had 3 failed rows, over max_failures_per_page (2)');
    // Survivors of page 2 written, its failures dead-lettered, its bookmark stored; page 3 never read.
    expect(main.rows).toHaveLength(16);
    expect(dead.rows).toHaveLength(4);
    expect(unwrapState(stateMap.get('unnamed::row-0')).bookmark).toEqual({ offset: 20 });
    expect(result.pages).toBe(2);
  });

  it('max_failures_total: counted across pages, the crossing page is finished, then the run fails', async () => {
    const main = newStorage();
    const dead = newStorage();
    const stateMap = new Map<string, JsonValue>();
    const result = await runPipeline({
      source: countingSource({ total: 50, pageSize: 10 }),
      sink: recordingSink(main, { rejectRow: (r) => [1, 11, 21, 31].includes(r.id as number) }),
      dlq: { sink: recordingSink(dead), maxFailuresTotal: 2 },
      state: testStore(stateMap),
      batchSize: 10,
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('DLQ_BUDGET_EXCEEDED');
    expect(result.error?.message).toContain('the run had 3 failed rows, over max_failures_total (2)');
    expect(dead.rows).toHaveLength(3);
    expect(main.rows).toHaveLength(27);
    expect(unwrapState(stateMap.get('unnamed::row-0')).bookmark).toEqual({ offset: 30 });
  });

  it('I4: dead letters are flushed before the bookmark that passes them is stored', async () => {
    const order: string[] = [];
    const stateMap = new Map<string, JsonValue>();
    const store = testStore(stateMap);
    const put = store.put.bind(store);
    store.put = async (key, value) => {
      order.push('state.put');
      await put(key, value);
    };
    const dlqSink = recordingSink(newStorage());
    const mainSink = recordingSink(newStorage(), { rejectRow: (r) => r.id === 2 });
    const wrap = (name: string, sink: typeof mainSink) => {
      const write = sink.write.bind(sink);
      const flush = sink.flush?.bind(sink);
      sink.write = async (records, ctx) => {
        order.push(`${name}.write`);
        return write(records, ctx);
      };
      sink.flush = async () => {
        order.push(`${name}.flush`);
        await flush?.();
      };
    };
    wrap('sink', mainSink);
    wrap('dlq', dlqSink);
    await runPipeline({
      source: countingSource({ total: 5, pageSize: 5 }),
      sink: mainSink,
      dlq: { sink: dlqSink },
      state: store,
    });
    expect(order).toEqual(['sink.write', 'dlq.write', 'sink.flush', 'dlq.flush', 'state.put', 'sink.flush']);
  });

  it('secrets never reach envelopes', async () => {
    const dead = newStorage();
    const sink = recordingSink(newStorage());
    sink.write = async (records) => ({
      failed: records.map((_, index) => ({ index, error: new Error('auth failed for token s3cr3t-token') })),
    });
    await runPipeline({
      source: countingSource({ total: 2, record: (id) => ({ id, note: 'copy of s3cr3t-token' }) }),
      sink,
      dlq: { sink: recordingSink(dead) },
      redactor: new Redactor(['s3cr3t-token']),
    });
    expect(JSON.stringify(dead.rows)).not.toContain('s3cr3t-token');
    expect((dead.rows[0]?.error as { message: string }).message).toBe('auth failed for token ***');
  });

  it('a DLQ write failure is fatal and surfaces as DLQ_WRITE_FAILED', async () => {
    const result = await runPipeline({
      source: countingSource({ total: 10, pageSize: 10 }),
      sink: recordingSink(newStorage(), { rejectRow: (r) => r.id === 4 }),
      dlq: { sink: recordingSink(newStorage(), { failWriteAt: 1 }) },
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('DLQ_WRITE_FAILED');
    expect(result.error?.cause).toBeInstanceOf(Boom);
  });
});
