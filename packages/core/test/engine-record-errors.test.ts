/**
 * on_record_error (issue 11 item 4): a record the source cannot decode, or a transform cannot
 * convert, fails the run by default; with `dlq` it is dead-lettered with its position and raw text,
 * the run goes on, and the DLQ budgets count it.
 */
import { describe, expect, it } from 'vitest';
import {
  castTransform,
  type FaucetRecord,
  type JsonValue,
  type Page,
  Redactor,
  runPipeline,
  type Source,
  unwrapState,
} from '../src/index.js';
import { newStorage, recordingSink, testStore } from './doubles.js';

/** Pages of good records with one undecodable line each, rejected only when the run asks for it. */
function lineSource(pages: number): Source & { policies: string[] } {
  const policies: string[] = [];
  return {
    policies,
    async *read(ctx) {
      policies.push(ctx.onRecordError ?? 'absent');
      for (let p = 0; p < pages; p++) {
        const line = p * 3 + 2;
        if (ctx.onRecordError !== 'dlq') throw new Error(`line ${line} is not JSON`);
        const page: Page = {
          records: [{ id: p * 2 }, { id: p * 2 + 1 }],
          bookmark: { line: line + 1 },
          rejected: [
            {
              error: `line ${line} is not JSON`,
              raw: `{"id": ${p}, oops`,
              position: { file: 'in.jsonl', line },
            },
          ],
        };
        yield page;
      }
    },
  };
}

describe('on_record_error', () => {
  it('fail (default): the source is told to fail, and the run fails naming the record', async () => {
    const source = lineSource(2);
    const result = await runPipeline({ source, sink: recordingSink(newStorage()) });
    expect(source.policies).toEqual(['fail']);
    expect(result.status).toBe('failed');
    expect(result.error?.message).toContain('line 2 is not JSON');
  });

  it('dlq: undecodable records go to the DLQ with position and raw text; the rest is written and checkpointed', async () => {
    const main = newStorage();
    const dead = newStorage();
    const map = new Map<string, JsonValue>();
    const result = await runPipeline({
      pipeline: 'p',
      source: lineSource(3),
      sink: recordingSink(main),
      state: testStore(map),
      dlq: { sink: recordingSink(dead) },
      onRecordError: 'dlq',
    });
    expect(result.status).toBe('ok');
    expect(result.recordsWritten).toBe(6);
    expect(result.recordsDeadLettered).toBe(3);
    expect(main.rows.map((r) => r.id)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(dead.rows[0]).toMatchObject({
      reason: 'source',
      payload: null,
      raw: '{"id": 0, oops',
      position: { file: 'in.jsonl', line: 2 },
      error: { kind: 'RECORD_INVALID', message: 'line 2 is not JSON' },
    });
    expect(unwrapState(map.get('p::row-0')).bookmark).toEqual({ line: 9 });
  });

  it('dlq: budgets count rejected records (the page is finished and checkpointed, then the run stops)', async () => {
    const map = new Map<string, JsonValue>();
    const dead = newStorage();
    const result = await runPipeline({
      pipeline: 'p',
      source: lineSource(5),
      sink: recordingSink(newStorage()),
      state: testStore(map),
      dlq: { sink: recordingSink(dead), maxFailuresTotal: 1 },
      onRecordError: 'dlq',
    });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('DLQ_BUDGET_EXCEEDED');
    expect(dead.rows).toHaveLength(2);
    expect(unwrapState(map.get('p::row-0')).bookmark).toEqual({ line: 6 });
  });

  it('dlq without a dlq block is refused before anything runs', async () => {
    await expect(
      runPipeline({ source: lineSource(1), sink: recordingSink(newStorage()), onRecordError: 'dlq' }),
    ).rejects.toThrow(/on_record_error: is dlq, but no dlq is configured/);
  });

  it('a value cast cannot convert: fails by default; with dlq the record as read goes to the DLQ', async () => {
    const records: FaucetRecord[] = [{ id: '1' }, { id: 'x-2' }, { id: '3' }];
    const source: Source = {
      async *read() {
        yield { records, bookmark: { n: 3 } };
      },
    };
    const cast = castTransform.create({ fields: { id: 'int' }, on_error: 'error' });
    const failing = await runPipeline({ source, sink: recordingSink(newStorage()), transforms: [cast] });
    expect(failing.status).toBe('failed');
    expect(failing.error?.code).toBe('TRANSFORM_FAILED');

    const main = newStorage();
    const dead = newStorage();
    const result = await runPipeline({
      source,
      sink: recordingSink(main),
      transforms: [cast],
      dlq: { sink: recordingSink(dead) },
      onRecordError: 'dlq',
    });
    expect(result.status).toBe('ok');
    expect(main.rows).toEqual([{ id: 1 }, { id: 3 }]);
    expect(dead.rows).toHaveLength(1);
    expect(dead.rows[0]).toMatchObject({
      reason: 'transform',
      payload: { id: 'x-2' },
      record_index: 1,
      error: { kind: 'TRANSFORM_FAILED' },
    });
  });

  it('secrets in raw text are redacted in the envelope', async () => {
    const dead = newStorage();
    const source: Source = {
      async *read() {
        yield { records: [], bookmark: 1, rejected: [{ error: 'bad', raw: 'token=s3cr3t-Value!' }] };
      },
    };
    await runPipeline({
      source,
      sink: recordingSink(newStorage()),
      dlq: { sink: recordingSink(dead) },
      onRecordError: 'dlq',
      redactor: new Redactor(['s3cr3t-Value!']),
    });
    expect(JSON.stringify(dead.rows)).not.toContain('s3cr3t-Value!');
  });
});
