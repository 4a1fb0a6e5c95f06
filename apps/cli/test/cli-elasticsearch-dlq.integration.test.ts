/**
 * Acceptance: a JSONL → Elasticsearch run where some documents violate the index mapping (a string
 * into a long field). Those documents land in the DLQ with the item's error (type and reason), every
 * other document is indexed, and the bookmark reaches the end of the file. After the mapping is
 * fixed (`ignore_malformed` on the field: a field's type cannot change in place), `faucet dlq replay`
 * indexes the dead-lettered documents.
 *
 * Needs the repository's Elasticsearch (FAUCET_TEST_ELASTICSEARCH_URL); without it the file fails
 * in CI and is skipped, saying why, elsewhere.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { countDocs, esRequest, useIndices, withElasticsearch } from '@faucet/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, runCli, tempDir, write } from './helpers.js';

const DOCS = 2500;
const BAD = new Set([7, 250, 251, 1000, 2500]);

const readJsonl = (file: string): Record<string, unknown>[] =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

withElasticsearch('with Elasticsearch', (url) => {
  const indices = useIndices(url, 'clidlq');
  beforeAll(() => assertBuilt());
  afterAll(() => cleanupTempDirs());

  describe('faucet run → Elasticsearch with mapping violations, then faucet dlq replay', () => {
    it('dead-letters exactly the violating documents with the item error, checkpoints past them, and replays them once fixed', async () => {
      const index = indices.name('orders');
      const created = await esRequest(url, 'PUT', `/${index}`, {
        settings: { number_of_shards: 2, number_of_replicas: 0 },
        mappings: { properties: { id: { type: 'long' }, amount: { type: 'long' } } },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(200);

      const dir = tempDir('faucet-es-dlq-');
      const lines: string[] = [];
      for (let id = 1; id <= DOCS; id++) {
        lines.push(JSON.stringify({ id, name: `order ${id}`, amount: BAD.has(id) ? `n/a ${id}` : id * 10 }));
      }
      write(join(dir, 'orders.jsonl'), `${lines.join('\n')}\n`);
      write(
        join(dir, 'pipeline.yaml'),
        `version: 1
name: es_dlq
pipeline:
  source: { type: file, config: { path: ./orders.jsonl } }
  sink:
    type: elasticsearch
    config: { base_url: ${JSON.stringify(url)}, index: ${index}, write_mode: index, key: [id] }
  state: { type: file, config: { path: ./state } }
  dlq:
    sink: { type: file, config: { path: ./dlq.jsonl, format: jsonl } }
  batch_size: 400
`,
      );

      const run = await runCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir });
      expect(run.code, run.stderr).toBe(0);
      const summary = JSON.parse(run.stdout) as { status: string; records_written: number };
      expect(summary.status).toBe('ok');
      expect(summary.records_written).toBe(DOCS - BAD.size);
      expect(await countDocs(url, index)).toBe(DOCS - BAD.size);

      const envelopes = readJsonl(join(dir, 'dlq.jsonl')) as {
        error: { kind: string; message: string };
        reason: string;
        payload: { id: number; amount: unknown };
        sink: string;
      }[];
      expect(envelopes.map((e) => e.payload.id).sort((a, b) => a - b)).toEqual(
        [...BAD].sort((a, b) => a - b),
      );
      for (const envelope of envelopes) {
        expect(envelope.reason).toBe('partial');
        expect(envelope.sink).toBe('elasticsearch');
        expect(envelope.error.kind).toBe('SINK_ROW_REJECTED');
        expect(envelope.error.message).toContain(`index "${index}" rejected the document (HTTP 400`);
        expect(envelope.error.message).toMatch(
          /document_parsing_exception: .*failed to parse field \[amount\]/,
        );
        expect(envelope.payload.amount).toBe(`n/a ${envelope.payload.id}`);
      }

      // The bookmark passed the dead-lettered documents: a second run has nothing to do.
      const state = JSON.parse(readFileSync(join(dir, 'state', 'es_dlq%3A%3Arow-0.json'), 'utf8')) as {
        bookmark: { files: Record<string, { line: number; done?: boolean }> };
      };
      expect(Object.values(state.bookmark.files)[0]).toMatchObject({ line: DOCS, done: true });
      const again = await runCli(['run', 'pipeline.yaml', '--output', 'json'], { cwd: dir });
      expect(again.code, again.stderr).toBe(0);
      expect((JSON.parse(again.stdout) as { records_written: number }).records_written).toBe(0);

      // Fix the mapping, then replay.
      const fixed = await esRequest(url, 'PUT', `/${index}/_mapping`, {
        properties: { amount: { type: 'long', ignore_malformed: true } },
      });
      expect(fixed.status, JSON.stringify(fixed.body)).toBe(200);
      const replay = await runCli(['dlq', 'replay', 'pipeline.yaml', '--output', 'json'], { cwd: dir });
      expect(replay.code, replay.stderr).toBe(0);
      const replayed = JSON.parse(replay.stdout) as { files: { replayed: number; failed: number }[] };
      expect(replayed.files[0]).toMatchObject({ replayed: BAD.size, failed: 0 });
      expect(existsSync(join(dir, 'dlq.replay-failed.jsonl'))).toBe(false);

      expect(await countDocs(url, index)).toBe(DOCS);
      for (const id of BAD) {
        const doc = await esRequest(url, 'GET', `/${index}/_doc/${id}`);
        expect(doc.body._source).toEqual({ id, name: `order ${id}`, amount: `n/a ${id}` });
      }
    });
  });
});
