/**
 * Acceptance: `faucet run` on a JSONL → Elasticsearch pipeline of 300,000 documents with its state in
 * the file store, killed with SIGKILL at five random moments, then run to its end. The index then
 * holds exactly the source documents: the ids 1..300,000 once each (read back in full, sorted), and a
 * random sample of 1,000 equal to their source records field by field. Two ways: upsert by id
 * (at-least-once; replays overwrite) and append with effectively-once delivery (ids derived from the
 * commit token, so a replayed page creates nothing new). A further run moves nothing.
 *
 * Needs the repository's Elasticsearch (FAUCET_TEST_ELASTICSEARCH_URL: `scripts/services.sh start`,
 * then `eval "$(scripts/services.sh env)"`); without it the file fails in CI and is skipped, saying
 * why, elsewhere. The test index skips periodic refreshes and fsyncs its translog asynchronously:
 * only the CLI is killed here, never the node, and the node is the slow part on a loaded machine.
 */
import { randomInt } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { countDocs, esRequest, useIndices, withElasticsearch } from '@faucet/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertBuilt,
  cleanupTempDirs,
  readStateDir,
  runCli,
  sleep,
  startCli,
  tempDir,
  write,
} from './helpers.js';

const DOCS = 300_000;
const PAGE = 1000;
const KILLS = 5;

interface Case {
  id: string;
  title: string;
  sink: string;
  delivery: 'at_least_once' | 'effectively_once';
}

const CASES: Case[] = [
  {
    id: 'upsert',
    title: 'upsert by id, at-least-once: exactly the source documents',
    sink: 'write_mode: upsert, key: [id]',
    delivery: 'at_least_once',
  },
  {
    id: 'eo',
    title: 'append with effectively-once delivery: no duplicate, no loss',
    sink: 'write_mode: append',
    delivery: 'effectively_once',
  },
];

interface Summary {
  status: string;
  records_written: number;
  invocations: Array<{ state_key: string; status: string; records_written: number; pages_skipped: number }>;
}

const record = (id: number) => ({
  id,
  name: `name ${id}`,
  amount: (id % 1000) + 0.25,
  updated_at: new Date(Date.UTC(2024, 0, 1) + id * 1000).toISOString(),
  tags: id % 3 === 0 ? ['a', 'b'] : [],
});

withElasticsearch('with Elasticsearch', (url) => {
  const indices = useIndices(url, 'clicrash');
  let source = '';

  beforeAll(() => {
    assertBuilt();
    const dir = tempDir('faucet-es-crash-src-');
    const lines: string[] = [];
    for (let id = 1; id <= DOCS; id++) lines.push(JSON.stringify(record(id)));
    source = write(join(dir, 'docs.jsonl'), `${lines.join('\n')}\n`);
  });
  afterAll(() => cleanupTempDirs());

  /** Source lines behind the stored checkpoint (0 before the first one). */
  /** The source line of the stored checkpoint (while a run holds the key, its journal holds it). */
  const checkpointLine = (stateFile: string): number => {
    const key = basename(stateFile, '.json').replaceAll('%3A', ':');
    try {
      const state = readStateDir(dirname(stateFile))[key] as
        | { bookmark?: { files?: Record<string, { line?: number }> } }
        | undefined;
      return Object.values(state?.bookmark?.files ?? {})[0]?.line ?? 0;
    } catch {
      return 0; // a journal replaced while it was read: poll again
    }
  };

  /** Every id in the index, in order (search_after pages of 10,000 doc values). */
  const allIds = async (index: string): Promise<number[]> => {
    const ids: number[] = [];
    let after: unknown[] | undefined;
    for (;;) {
      const page = await esRequest(url, 'POST', `/${index}/_search`, {
        size: 10_000,
        sort: [{ id: 'asc' }],
        _source: false,
        docvalue_fields: ['id'],
        track_total_hits: false,
        ...(after ? { search_after: after } : {}),
      });
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      const hits = page.body.hits.hits as { fields: { id: number[] }; sort: unknown[] }[];
      if (hits.length === 0) return ids;
      for (const hit of hits) ids.push(hit.fields.id[0] as number);
      after = hits[hits.length - 1]?.sort;
    }
  };

  describe(`faucet run on JSONL → Elasticsearch, ${DOCS.toLocaleString('en')} documents, killed with SIGKILL ${KILLS} times`, () => {
    for (const c of CASES) {
      it(c.title, async () => {
        const t0 = performance.now();
        const index = indices.name(c.id);
        const tokens = indices.name(`${c.id}-tokens`);
        const created = await esRequest(url, 'PUT', `/${index}`, {
          settings: {
            number_of_shards: 1,
            number_of_replicas: 0,
            refresh_interval: -1,
            'translog.durability': 'async',
          },
          mappings: {
            properties: {
              id: { type: 'long' },
              name: { type: 'keyword' },
              amount: { type: 'double' },
              updated_at: { type: 'date' },
              tags: { type: 'keyword' },
            },
          },
        });
        expect(created.status, JSON.stringify(created.body)).toBe(200);
        const name = `escrash_${c.id}`;
        const dir = tempDir('faucet-es-crash-');
        const stateFile = join(dir, 'state', `${name}%3A%3Arow-0.json`);
        write(
          join(dir, 'pipeline.yaml'),
          `version: 1
name: ${name}
pipeline:
  source: { type: file, config: { path: ${JSON.stringify(source)}, format: jsonl } }
  sink:
    type: elasticsearch
    config: { base_url: ${JSON.stringify(url)}, index: ${index}, commit_token_index: ${tokens}, ${c.sink} }
  state: { type: file, config: { path: ./state } }
  batch_size: ${PAGE}
  delivery: ${c.delivery}
`,
        );

        const kills: { run: number; target: number; stored: number; docs: number; atMs: number }[] = [];
        let previous = 0;
        for (let run = 1; run <= KILLS; run++) {
          // A checkpoint in the run-th sixth of the file (past the previous kill's), then a random
          // delay, so the kill lands anywhere in a page's read / _bulk / token / checkpoint.
          const low = Math.max(previous + PAGE, ((run - 1) * DOCS) / (KILLS + 1) + PAGE);
          const target = randomInt(low, (run * DOCS) / (KILLS + 1));
          const started = performance.now();
          const cli = startCli(['run', 'pipeline.yaml'], { cwd: dir, timeoutMs: 600_000, lowPriority: true });
          let exited = false;
          void cli.done.then(() => {
            exited = true;
          });
          while (checkpointLine(stateFile) < target) {
            if (exited) {
              const { stderr } = await cli.done;
              throw new Error(`run ${run} ended before its checkpoint reached line ${target}:\n${stderr}`);
            }
            if (performance.now() - started > 540_000)
              throw new Error(`run ${run} made no progress to ${target}`);
            await sleep(5);
          }
          await sleep(randomInt(0, 30));
          const atMs = Math.round(performance.now() - started);
          cli.child.kill('SIGKILL');
          const killed = await cli.done;
          expect(killed.signal, `run ${run} had ended before the kill: ${killed.stderr}`).toBe('SIGKILL');
          const stored = checkpointLine(stateFile);
          expect(stored, `run ${run} moved the checkpoint past the previous kill's`).toBeGreaterThan(
            previous,
          );
          expect(stored, `run ${run} was killed before the end`).toBeLessThan(DOCS);
          kills.push({ run, target, stored, atMs, docs: await countDocs(url, index) });
          previous = stored;
        }

        const last = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
          cwd: dir,
          timeoutMs: 600_000,
        });
        expect(last.code, last.stderr).toBe(0);
        const summary = JSON.parse(last.stdout) as Summary;
        expect(summary.status).toBe('ok');
        expect(checkpointLine(stateFile)).toBe(DOCS);

        // Exactly the source ids, each once.
        expect(await countDocs(url, index)).toBe(DOCS);
        const ids = await allIds(index);
        expect(ids).toHaveLength(DOCS);
        const wrong = ids.findIndex((id, i) => id !== i + 1);
        expect(wrong, `ids are not exactly 1..${DOCS} once each (first wrong at position ${wrong})`).toBe(-1);

        // A random sample of 1,000 documents equals the source records, field by field.
        const sample = new Set<number>();
        while (sample.size < 1000) sample.add(randomInt(1, DOCS + 1));
        const found = await esRequest(url, 'POST', `/${index}/_search`, {
          size: 1000,
          query: { terms: { id: [...sample] } },
        });
        const hits = found.body.hits.hits as { _source: { id: number } }[];
        expect(hits).toHaveLength(1000);
        for (const hit of hits) expect(hit._source).toEqual(record(hit._source.id));

        if (c.delivery === 'effectively_once') {
          const token = await esRequest(
            url,
            'GET',
            `/${tokens}/_doc/${encodeURIComponent(`${name}::row-0`)}`,
          );
          expect(token.status, 'the sink holds the commit token of this state key').toBe(200);
          expect(token.body._source.token).toMatch(/^faucet1:/);
        }

        // A further run moves nothing.
        const again = await runCli(['run', 'pipeline.yaml', '--output', 'json'], {
          cwd: dir,
          timeoutMs: 120_000,
        });
        expect(again.code, again.stderr).toBe(0);
        expect((JSON.parse(again.stdout) as Summary).records_written).toBe(0);
        expect(await countDocs(url, index)).toBe(DOCS);

        console.log(
          `[es-crash ${c.id}] kills: ${kills
            .map(
              (k) =>
                `#${k.run} at ${k.atMs} ms (checkpoint >= ${k.target}; stored ${k.stored}, ${k.docs} docs)`,
            )
            .join(
              '; ',
            )}; final run wrote ${summary.records_written} (${summary.invocations[0]?.pages_skipped ?? 0} pages skipped); ${Math.round(performance.now() - t0)} ms`,
        );
      }, 900_000);
    }
  });
});
