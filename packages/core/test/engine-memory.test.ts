/**
 * I3: memory is bounded by the page size, not by the data volume. Two million lazily generated
 * records flow through a discarding sink; the heap, measured after forced GCs, must not grow by
 * more than HEAP_GROWTH_LIMIT between the early part of the run and its end.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { type Page, runPipeline, type Source } from '../src/index.js';

const TOTAL = 2_000_000;
const BATCH = 1000;
/** A leak of even 10 bytes per record would show as 20 MB; one page of records is ~0.2 MB. */
const HEAP_GROWTH_LIMIT = 16 * 1024 * 1024;

// Expose the collector to this test only (no need for a process-wide --expose-gc).
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as (() => void) | undefined;

describe('bounded memory', () => {
  it(`keeps heap growth under ${HEAP_GROWTH_LIMIT / 1024 / 1024} MiB over ${TOTAL.toLocaleString('en')} records`, async () => {
    expect(gc, 'the GC must be exposed to measure the live heap').toBeTypeOf('function');
    const samples: { page: number; heap: number }[] = [];
    const sample = (page: number) => {
      gc?.();
      samples.push({ page, heap: process.memoryUsage().heapUsed });
    };
    const source: Source = {
      async *read(): AsyncGenerator<Page> {
        for (let offset = 0; offset < TOTAL; offset += BATCH) {
          const page = offset / BATCH;
          if (page === 50 || page % 400 === 0) sample(page);
          const records = new Array(BATCH);
          for (let i = 0; i < BATCH; i++) {
            const id = offset + i;
            records[i] = { id, name: `user-${id}`, country: 'NL', amount: id * 0.01, tags: ['a', 'b'] };
          }
          yield { records, bookmark: { offset: offset + BATCH } };
        }
      },
    };
    let written = 0;
    const result = await runPipeline({
      // A cancellation signal, as the CLI always passes: waiting on it must not retain pages.
      signal: new AbortController().signal,
      source,
      sink: {
        async write(records) {
          written += records.length;
        },
      },
      batchSize: BATCH,
    });
    sample(TOTAL / BATCH);
    expect(result.status).toBe('ok');
    expect(written).toBe(TOTAL);
    const baseline = samples.find((s) => s.page === 50)?.heap ?? 0;
    const peak = Math.max(...samples.filter((s) => s.page >= 50).map((s) => s.heap));
    const growth = peak - baseline;
    console.log(
      `heap after page 50: ${(baseline / 1048576).toFixed(1)} MiB; peak later: ${(peak / 1048576).toFixed(1)} MiB; growth ${(growth / 1048576).toFixed(2)} MiB`,
    );
    expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT);
  });
});
