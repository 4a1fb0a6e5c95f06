/**
 * The CDC source against a real PostgreSQL with wal_level=logical: record shapes, transactions as
 * pages, the slot confirmed only up to stored bookmarks, heartbeats, the snapshot seam, resuming an
 * interrupted snapshot, and the refusals (lost or missing slot).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFileStateStore,
  createMemoryStateStore,
  type FaucetRecord,
  type JsonValue,
  type Page,
  runPipeline,
  type Sink,
  type StateStore,
  unwrapState,
} from '@faucet/core';
import { createPostgresCdcSource, type PostgresCdcConfigInput, parseLsn } from '@faucet/source-postgres-cdc';
import { captureLogger } from '@faucet/testkit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, useSchema, withPostgres } from './helpers.js';

const schema = useSchema(POSTGRES_URL, 'cdc_it');
const slots: string[] = [];
let counter = 0;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faucet-cdc-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  if (!POSTGRES_URL) return;
  const client = new pg.Client(POSTGRES_URL);
  await client.connect();
  for (const slot of slots) {
    await client
      .query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [
        slot,
      ])
      .catch(() => {});
    await client.query(`DROP PUBLICATION IF EXISTS ${slot}_pub`).catch(() => {});
  }
  await client.end();
});

/** A table, a publication for it and a slot name of the test's own. */
async function fixture(columns = 'id int PRIMARY KEY, name text, amount numeric, at timestamptz') {
  counter++;
  const slot = `${schema.name}_s${counter}`;
  slots.push(slot);
  const table = `${schema.name}.t${counter}`;
  const pool = schema.pool();
  await pool.query(`CREATE TABLE ${table} (${columns})`);
  await pool.query(`CREATE PUBLICATION ${slot}_pub FOR TABLE ${table}`);
  return { slot, table, publication: `${slot}_pub`, pool };
}

function config(f: { slot: string; publication: string }, extra: Partial<PostgresCdcConfigInput> = {}) {
  return {
    connection_url: POSTGRES_URL as string,
    slot_name: f.slot,
    publication_name: f.publication,
    idle_timeout: '1s',
    heartbeat_interval: 0,
    ...extra,
  } satisfies PostgresCdcConfigInput;
}

async function confirmedFlush(slot: string): Promise<bigint | undefined> {
  const { rows } = await schema
    .pool()
    .query<{ lsn: string | null }>(
      'SELECT confirmed_flush_lsn::text AS lsn FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
  const lsn = rows[0]?.lsn;
  return lsn ? parseLsn(lsn) : undefined;
}

function collectingSink(into: FaucetRecord[], delayMs = 0): Sink {
  return {
    async write(records) {
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      into.push(...records);
    },
  };
}

async function storedLsn(store: StateStore, slot: string): Promise<bigint | undefined> {
  const value = await store.get(`postgres-cdc:${slot}`);
  if (value === undefined) return undefined;
  const bookmark = unwrapState(value).bookmark as { kind: string; lsn: string } | undefined;
  return bookmark?.kind === 'lsn' ? parseLsn(bookmark.lsn) : undefined;
}

/** Read pages directly (no engine), storing nothing. */
async function readPages(
  source: { read: (ctx: never) => AsyncIterable<Page> },
  batchSize = 1000,
): Promise<Page[]> {
  const pages: Page[] = [];
  const ctx = {
    bookmark: undefined,
    batchSize,
    signal: new AbortController().signal,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    durableState: false,
  };
  for await (const page of source.read(ctx as never)) pages.push(page);
  return pages;
}

withPostgres('source "postgres-cdc" against PostgreSQL', () => {
  describe('records', () => {
    it('emits insert, update (key change too), delete and truncate with key, before, after and types mapped like source-postgres', async () => {
      const f = await fixture();
      await f.pool.query(`INSERT INTO ${f.table} VALUES (1, 'snap', 1.50, '2024-01-01 10:00:00+00')`);
      const source = createPostgresCdcSource(config(f));
      const changes = (async () => {
        await new Promise((r) => setTimeout(r, 400));
        const c = new pg.Client(POSTGRES_URL);
        await c.connect();
        await c.query(
          `INSERT INTO ${f.table} VALUES (2, 'two', 12345678901234567890.5, '2024-02-01 00:00:00.123456+00')`,
        );
        await c.query(`UPDATE ${f.table} SET name = 'uno' WHERE id = 1`);
        await c.query(`UPDATE ${f.table} SET id = 3 WHERE id = 2`);
        await c.query(`DELETE FROM ${f.table} WHERE id = 1`);
        await c.query(`TRUNCATE ${f.table}`);
        await c.end();
      })();
      const pages = await readPages(source);
      await changes;
      const records = pages.flatMap((p) => p.records);
      const table = f.table.split('.')[1];
      const strip = (r: FaucetRecord) => ({ ...r, lsn: typeof r.lsn, commit_ts: typeof r.commit_ts });
      expect(records.map(strip)).toEqual([
        {
          op: 'read',
          schema: schema.name,
          table,
          lsn: 'string',
          commit_ts: 'object',
          key: { id: 1 },
          before: null,
          after: { id: 1, name: 'snap', amount: '1.50', at: '2024-01-01T10:00:00Z' },
        },
        {
          op: 'insert',
          schema: schema.name,
          table,
          lsn: 'string',
          commit_ts: 'string',
          key: { id: 2 },
          before: null,
          after: { id: 2, name: 'two', amount: '12345678901234567890.5', at: '2024-02-01T00:00:00.123456Z' },
        },
        {
          op: 'update',
          schema: schema.name,
          table,
          lsn: 'string',
          commit_ts: 'string',
          key: { id: 1 },
          before: null,
          after: { id: 1, name: 'uno', amount: '1.50', at: '2024-01-01T10:00:00Z' },
        },
        {
          op: 'update',
          schema: schema.name,
          table,
          lsn: 'string',
          commit_ts: 'string',
          key: { id: 2 },
          before: null,
          after: { id: 3, name: 'two', amount: '12345678901234567890.5', at: '2024-02-01T00:00:00.123456Z' },
        },
        {
          op: 'delete',
          schema: schema.name,
          table,
          lsn: 'string',
          commit_ts: 'string',
          key: { id: 1 },
          before: null,
          after: null,
        },
        {
          op: 'truncate',
          schema: schema.name,
          table,
          lsn: 'string',
          commit_ts: 'string',
          key: null,
          before: null,
          after: null,
        },
      ]);
      // Pages end at commits (whole transactions waiting together may share one), each with its
      // bookmark; LSNs only grow.
      const streamed = pages.filter((p) => p.records.some((r) => r.op !== 'read'));
      expect(streamed.every((p) => p.bookmark !== undefined)).toBe(true);
      expect(streamed.reduce((n, p) => n + p.records.length, 0)).toBe(5);
      const lsns = streamed.map((p) => parseLsn((p.bookmark as { lsn: string }).lsn));
      expect([...lsns].sort((a, b) => (a < b ? -1 : 1))).toEqual(lsns);
      expect(records[1]?.commit_ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    });

    it('gives the full before image under REPLICA IDENTITY FULL, and the new columns after ALTER TABLE', async () => {
      const f = await fixture('id int, name text');
      await f.pool.query(`ALTER TABLE ${f.table} REPLICA IDENTITY FULL`);
      const source = createPostgresCdcSource(config(f, { snapshot: 'never' }));
      const changes = (async () => {
        await new Promise((r) => setTimeout(r, 400));
        await f.pool.query(`INSERT INTO ${f.table} VALUES (1, 'a')`);
        await f.pool.query(`UPDATE ${f.table} SET name = 'b' WHERE id = 1`);
        await f.pool.query(`ALTER TABLE ${f.table} ADD COLUMN extra int DEFAULT 7`);
        await f.pool.query(`DELETE FROM ${f.table} WHERE id = 1`);
      })();
      const records = (await readPages(source)).flatMap((p) => p.records);
      await changes;
      expect(records.map((r) => [r.op, r.before, r.after])).toEqual([
        ['insert', null, { id: 1, name: 'a' }],
        ['update', { id: 1, name: 'a' }, { id: 1, name: 'b' }],
        ['delete', { id: 1, name: 'b', extra: 7 }, null],
      ]);
    });
  });

  it('does not stop for idleness while the server is still reading through a backlog of WAL', async () => {
    const f = await fixture();
    await runPipeline({
      source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '200ms' })),
      sink: collectingSink([]),
    });
    // ~150 MB of WAL in a table nobody publishes, then one change that is published: the server must
    // decode all of it (taking far longer than idle_timeout) before it can send the change.
    await f.pool.query(`CREATE TABLE ${f.table}_bulk (id int, pad text)`);
    await f.pool.query(
      `INSERT INTO ${f.table}_bulk SELECT g, repeat('x', 200) FROM generate_series(1, 600000) g`,
    );
    await f.pool.query(`INSERT INTO ${f.table} VALUES (1, 'after the backlog')`);
    const logs = captureLogger();
    const got: FaucetRecord[] = [];
    const result = await runPipeline({
      source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '100ms' }), {
        logger: logs.logger,
      }),
      sink: collectingSink(got),
    });
    expect(result.status).toBe('ok');
    expect(got.map((r) => r.after)).toEqual([{ id: 1, name: 'after the backlog', amount: null, at: null }]);
  });

  it('readers stopping for idleness wait only for their own sync marker, whatever other markers come through', async () => {
    const a = await fixture();
    const b = await fixture();
    const run = (f: typeof a) =>
      runPipeline({
        source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '300ms' })),
        sink: collectingSink([]),
      });
    // Another reader's markers keep coming through both slots meanwhile.
    let noisy = true;
    const noise = (async () => {
      while (noisy) {
        await a.pool.query("SELECT pg_logical_emit_message(false, 'faucet.sync', 'someone-else')");
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const results = await Promise.all([run(a), run(b)]);
    noisy = false;
    await noise;
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);
  });

  it('splits a large transaction into pages with the bookmark on its last page only', async () => {
    const f = await fixture();
    const source = createPostgresCdcSource(config(f, { snapshot: 'never', batch_size: 1000 }));
    const writer = (async () => {
      await new Promise((r) => setTimeout(r, 400));
      await f.pool.query(`INSERT INTO ${f.table} SELECT g, 'n' || g FROM generate_series(1, 2500) g`);
      await f.pool.query(`INSERT INTO ${f.table} VALUES (9999, 'after')`);
    })();
    const pages = await readPages(source);
    await writer;
    // The 2,500-row transaction: two pages without a bookmark, then its last 500 rows with it (the
    // next one-row transaction may join that page: both end at a commit).
    expect(pages.map((p) => [p.records.length, p.bookmark !== undefined])).toEqual(
      pages.length === 3
        ? [
            [1000, false],
            [1000, false],
            [501, true],
          ]
        : [
            [1000, false],
            [1000, false],
            [500, true],
            [1, true],
          ],
    );
  });

  it('never skips a transaction whose commit directly follows the confirmed one (confirms the exact commit end)', async () => {
    const f = await fixture();
    const store = createFileStateStore({ path: join(dir, 'adjacent') });
    const got: FaucetRecord[] = [];
    const run = (extra: Partial<PostgresCdcConfigInput>) =>
      runPipeline({
        source: createPostgresCdcSource(config(f, { snapshot: 'never', ...extra })),
        sink: collectingSink(got),
        state: store,
      });
    // Create the slot before the writes.
    expect((await run({ idle_timeout: '200ms' })).status).toBe('ok');
    // A writes first but commits second; B commits in between: A's commit record starts exactly
    // where B's ends.
    const a = new pg.Client(POSTGRES_URL);
    const b = new pg.Client(POSTGRES_URL);
    await a.connect();
    await b.connect();
    await a.query('BEGIN');
    await a.query(`INSERT INTO ${f.table} VALUES (1, 'a')`);
    await b.query('BEGIN');
    await b.query(`INSERT INTO ${f.table} VALUES (2, 'b')`);
    await b.query('COMMIT');
    await a.query('COMMIT');
    await a.end();
    await b.end();
    // The first run stops right after B's transaction and confirms it.
    expect((await run({ max_messages: 1 })).status).toBe('ok');
    expect(got.map((r) => (r.after as { id: number }).id)).toEqual([2]);
    expect(await confirmedFlush(f.slot)).toBe(await storedLsn(store, f.slot));
    // The next run must still get A.
    expect((await run({})).status).toBe('ok');
    expect(got.map((r) => (r.after as { id: number }).id)).toEqual([2, 1]);
  });

  describe('acknowledgement', () => {
    it('never confirms the slot past the stored bookmark during a run, and catches up after each checkpoint', async () => {
      const f = await fixture();
      const store = createFileStateStore({ path: join(dir, 'ack') });
      const got: FaucetRecord[] = [];
      // Create the slot, then write 200 transactions while a slow sink streams them.
      await runPipeline({
        source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '200ms' })),
        sink: collectingSink(got),
        state: store,
      });
      const before = await confirmedFlush(f.slot);
      const writer = (async () => {
        for (let i = 1; i <= 200; i++) await f.pool.query(`INSERT INTO ${f.table} VALUES (${i}, 'x')`);
      })();
      const violations: string[] = [];
      const positions = new Set<bigint>();
      let samples = 0;
      let running = true;
      const watcher = (async () => {
        while (running) {
          const confirmed = await confirmedFlush(f.slot);
          const stored = await storedLsn(store, f.slot);
          samples++;
          if (confirmed !== undefined) positions.add(confirmed);
          if (confirmed !== undefined && confirmed > (stored ?? before ?? 0n)) {
            violations.push(`confirmed ${confirmed} > stored ${stored}`);
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const result = await runPipeline({
        source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '1500ms' })),
        sink: collectingSink(got, 5),
        state: store,
      });
      await writer;
      running = false;
      await watcher;
      expect(result.status).toBe('ok');
      expect(got).toHaveLength(200);
      expect(samples).toBeGreaterThan(10);
      expect(violations).toEqual([]);
      // It moved along with the checkpoints during the run, not only at the end.
      expect(positions.size).toBeGreaterThanOrEqual(3); // where it began, at least one in between, the end
      // After the run, the slot stands exactly at the stored bookmark, past where it began.
      const stored = await storedLsn(store, f.slot);
      expect(stored).toBeDefined();
      expect(await confirmedFlush(f.slot)).toBe(stored);
      expect(stored as bigint).toBeGreaterThan(before as bigint);
    });

    it('does not confirm anything with a store that is not durable, and says so', async () => {
      const f = await fixture();
      const logs = captureLogger();
      const store = createMemoryStateStore();
      await runPipeline({
        source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '200ms' })),
        sink: collectingSink([]),
        state: store,
      });
      const start = await confirmedFlush(f.slot);
      const writer = (async () => {
        await new Promise((r) => setTimeout(r, 300));
        await f.pool.query(`INSERT INTO ${f.table} VALUES (1, 'x')`);
      })();
      const result = await runPipeline({
        source: createPostgresCdcSource(config(f, { snapshot: 'never' }), { logger: logs.logger }),
        sink: collectingSink([]),
        state: store,
      });
      await writer;
      expect(result.recordsWritten).toBe(1);
      expect(await confirmedFlush(f.slot)).toBe(start);
      expect(logs.lines.map((l) => l.msg).join('\n')).toMatch(/not durable.*never confirmed/);
    });

    it('keeps the slot advancing on a quiet database with heartbeats', async () => {
      const f = await fixture();
      const store = createFileStateStore({ path: join(dir, 'heartbeat') });
      await runPipeline({
        source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '200ms' })),
        sink: collectingSink([]),
        state: store,
      });
      const start = (await confirmedFlush(f.slot)) as bigint;
      const controller = new AbortController();
      const positions: bigint[] = [];
      const run = runPipeline({
        source: createPostgresCdcSource(
          config(f, {
            snapshot: 'never',
            idle_timeout: 0,
            heartbeat_interval: '500ms',
            status_update_interval: '200ms',
          }),
        ),
        sink: collectingSink([]),
        state: store,
        signal: controller.signal,
      });
      // WAL moves on elsewhere (an unpublished table), but no published table changes: each time,
      // a heartbeat must carry the slot past where it stood (waiting up to 15 s for it).
      await f.pool.query(`CREATE TABLE ${f.table}_other (x int)`);
      let previous = start;
      for (let i = 0; i < 3; i++) {
        await f.pool.query(`INSERT INTO ${f.table}_other SELECT generate_series(1, 1000)`);
        const deadline = Date.now() + 15_000;
        let now = (await confirmedFlush(f.slot)) as bigint;
        while (now <= previous && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 100));
          now = (await confirmedFlush(f.slot)) as bigint;
        }
        positions.push(now);
        previous = now;
      }
      controller.abort();
      expect((await run).status).toBe('cancelled');
      expect(positions[0] as bigint).toBeGreaterThan(start);
      expect(positions[1] as bigint).toBeGreaterThan(positions[0] as bigint);
      expect(positions[2] as bigint).toBeGreaterThan(positions[1] as bigint);
      expect(await storedLsn(store, f.slot)).toBe(await confirmedFlush(f.slot));
    });
  });

  describe('snapshot', () => {
    it('delivers rows written during the snapshot exactly once (the seam), and ends equal to the table', async () => {
      const f = await fixture();
      await f.pool.query(`INSERT INTO ${f.table} SELECT g, 'v0' FROM generate_series(1, 20000) g`);
      const store = createFileStateStore({ path: join(dir, 'seam') });
      const got: FaucetRecord[] = [];
      let writes: Promise<void> | undefined;
      const sink: Sink = {
        async write(records) {
          got.push(...records);
          // While the snapshot is being read: insert new rows and update snapshotted and unread ones.
          if (!writes && records.some((r) => r.op === 'read')) {
            writes = (async () => {
              await f.pool.query(
                `INSERT INTO ${f.table} SELECT g, 'new' FROM generate_series(20001, 20500) g`,
              );
              await f.pool.query(`UPDATE ${f.table} SET name = 'v1' WHERE id % 1000 = 0`);
              await f.pool.query(`DELETE FROM ${f.table} WHERE id % 1000 = 1`);
            })();
            await writes;
          }
        },
      };
      const result = await runPipeline({
        source: createPostgresCdcSource(config(f, { batch_size: 500 })),
        sink,
        state: store,
        batchSize: 500,
      });
      expect(result.status).toBe('ok');
      const reads = got.filter((r) => r.op === 'read');
      // The snapshot is the table at the slot's consistent point: none of the later changes in it.
      expect(reads).toHaveLength(20000);
      expect(reads.every((r) => (r.after as { name: string }).name === 'v0')).toBe(true);
      const inserted = got.filter((r) => r.op === 'insert');
      expect(inserted).toHaveLength(500);
      expect(new Set(inserted.map((r) => (r.key as { id: number }).id)).size).toBe(500);
      expect(got.filter((r) => r.op === 'update')).toHaveLength(20);
      // ids 1, 1001, … 20001: 20001 was inserted during the snapshot too.
      expect(got.filter((r) => r.op === 'delete')).toHaveLength(21);
      // Applying the changes in order gives exactly the table.
      const target = new Map<number, string>();
      for (const r of got) {
        const key = (r.key as { id: number }).id;
        if (r.op === 'delete') target.delete(key);
        else target.set(key, (r.after as { name: string }).name);
      }
      const { rows } = await f.pool.query<{ id: number; name: string }>(
        `SELECT id, name FROM ${f.table} ORDER BY id`,
      );
      expect(target.size).toBe(rows.length);
      for (const row of rows) expect(target.get(row.id)).toBe(row.name);
    });

    it('resumes an interrupted snapshot at its table and key, and loses nothing', async () => {
      const f = await fixture();
      await f.pool.query(`INSERT INTO ${f.table} SELECT g, 'v0' FROM generate_series(1, 5000) g`);
      const store = createFileStateStore({ path: join(dir, 'resume') });
      const got: FaucetRecord[] = [];
      let pages = 0;
      const failing: Sink = {
        async write(records) {
          if (++pages === 4) throw new Error('sink down');
          got.push(...records);
        },
      };
      const first = await runPipeline({
        source: createPostgresCdcSource(config(f, { batch_size: 1000 })),
        sink: failing,
        state: store,
        batchSize: 1000,
        retry: false,
      });
      expect(first.status).toBe('failed');
      const stored = unwrapState((await store.get(`postgres-cdc:${f.slot}`)) as JsonValue).bookmark as {
        kind: string;
        after: number[];
      };
      expect(stored).toMatchObject({ kind: 'snapshot', exact: true, after: [3000] });
      await f.pool.query(`INSERT INTO ${f.table} VALUES (6000, 'later')`);
      const logs = captureLogger();
      const second = await runPipeline({
        source: createPostgresCdcSource(config(f, { batch_size: 1000 }), { logger: logs.logger }),
        sink: collectingSink(got),
        state: store,
        batchSize: 1000,
      });
      expect(second.status).toBe('ok');
      // The second run read only what was left of the snapshot (ids 3001..6000) plus the change.
      expect(second.recordsRead).toBe(2000 + 1 + 1);
      const ids = new Set(got.map((r) => (r.key as { id: number }).id));
      expect(ids.size).toBe(5001);
      expect(logs.lines.map((l) => l.msg).join('\n')).toMatch(/resuming an interrupted snapshot/);
    });
  });

  describe('refusals', () => {
    it('refuses to start when the slot behind a stored bookmark is gone, telling the user to re-snapshot', async () => {
      const f = await fixture();
      const store = createFileStateStore({ path: join(dir, 'gone') });
      const run = () =>
        runPipeline({
          source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '200ms' })),
          sink: collectingSink([]),
          state: store,
        });
      await f.pool.query(`INSERT INTO ${f.table} VALUES (1, 'x')`);
      const first = await run();
      expect(first.error?.message).toBeUndefined();
      await store.put(`postgres-cdc:${f.slot}`, {
        v: 1,
        bookmark: { kind: 'lsn', slot: f.slot, lsn: '0/1' },
        source: { type: 'postgres-cdc', version: '0' },
        run_id: 'x',
        updated_at: new Date().toISOString(),
      });
      // The slot is past the bookmark: changes in between are gone for this pipeline.
      const past = await run();
      expect(past.status).toBe('failed');
      expect(past.error?.message).toMatch(/confirmed up to .* past the stored bookmark 0\/1/);
      await f.pool.query('SELECT pg_drop_replication_slot($1)', [f.slot]);
      const missing = await run();
      expect(missing.status).toBe('failed');
      expect(missing.error?.message).toMatch(
        /slot ".*" does not exist, but the stored bookmark is at 0\/1.*re-snapshot/,
      );
    });

    it('names a missing publication', async () => {
      const f = await fixture();
      const result = await runPipeline({
        source: createPostgresCdcSource(config(f, { publication_name: 'no_such_pub' })),
        sink: collectingSink([]),
      });
      expect(result.status).toBe('failed');
      expect(result.error?.message).toMatch(/publication "no_such_pub" does not exist/);
    });
  });
});

withPostgres('source "postgres-cdc": slot types, publications, metrics', () => {
  it('creates the publication from create_publication when it is missing', async () => {
    counter++;
    const slot = `${schema.name}_s${counter}`;
    slots.push(slot);
    const table = `${schema.name}.t${counter}`;
    await schema.pool().query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text)`);
    await schema.pool().query(`INSERT INTO ${table} VALUES (1, 'a')`);
    const source = createPostgresCdcSource({
      connection_url: POSTGRES_URL as string,
      slot_name: slot,
      publication_name: `${slot}_pub`,
      create_publication: [table],
      idle_timeout: '300ms',
      heartbeat_interval: 0,
    });
    const records = (await readPages(source)).flatMap((p) => p.records);
    expect(records.map((r) => [r.op, r.after])).toEqual([['read', { id: 1, name: 'a' }]]);
    const { rows } = await schema
      .pool()
      .query('SELECT schemaname, tablename FROM pg_publication_tables WHERE pubname = $1', [`${slot}_pub`]);
    expect(rows).toEqual([{ schemaname: schema.name, tablename: `t${counter}` }]);
  });

  it('discovers the published tables with their keys, and check() passes', async () => {
    const f = await fixture();
    const source = createPostgresCdcSource(config(f));
    await source.check?.();
    const streams = await source.discover?.();
    expect(streams?.map((s) => [s.name, s.primaryKeys])).toEqual([[f.table, ['id']]]);
    expect(streams?.[0]?.schema).toMatchObject({
      required: ['op', 'schema', 'table', 'lsn', 'commit_ts', 'key', 'before', 'after'],
    });
  });

  it('streams with a temporary slot that is gone after the run', async () => {
    const f = await fixture();
    const source = createPostgresCdcSource(
      config(f, { slot_type: 'temporary', snapshot: 'never', idle_timeout: '1s' }),
    );
    const writer = (async () => {
      await new Promise((r) => setTimeout(r, 500));
      await f.pool.query(`INSERT INTO ${f.table} VALUES (1, 'a')`);
    })();
    const records = (await readPages(source)).flatMap((p) => p.records);
    await writer;
    expect(records.map((r) => r.op)).toEqual(['insert']);
    expect(await confirmedFlush(f.slot)).toBeUndefined();
  });

  it('exports the slot lag as a gauge while it reads', async () => {
    const { metrics } = await import('@opentelemetry/api');
    const { AggregationTemporality, MeterProvider, MetricReader } = await import(
      '@opentelemetry/sdk-metrics'
    );
    class Reader extends MetricReader {
      constructor() {
        super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
      }
      protected override async onForceFlush(): Promise<void> {}
      protected override async onShutdown(): Promise<void> {}
    }
    const reader = new Reader();
    const provider = new MeterProvider({ readers: [reader] });
    metrics.setGlobalMeterProvider(provider);
    try {
      const f = await fixture();
      // Create the slot, then change a row nobody reads yet: the slot now holds WAL back.
      await runPipeline({
        source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '200ms' })),
        sink: collectingSink([]),
      });
      await f.pool.query(`INSERT INTO ${f.table} SELECT g, 'x' FROM generate_series(1, 1000) g`);
      const controller = new AbortController();
      const observed: number[] = [];
      const source = createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: 0 }));
      const run = runPipeline({
        source,
        sink: {
          async write() {
            // Sample the gauge while the run is on (the first page is being written).
            const { resourceMetrics } = await reader.collect();
            for (const scope of resourceMetrics.scopeMetrics) {
              for (const metric of scope.metrics) {
                if (metric.descriptor.name !== 'faucet.source.postgres_cdc.slot_lag_bytes') continue;
                for (const point of metric.dataPoints) {
                  if ((point.attributes as { slot?: string }).slot === f.slot)
                    observed.push(point.value as number);
                }
              }
            }
            controller.abort();
          },
        },
        signal: controller.signal,
      });
      expect((await run).status).toBe('cancelled');
      expect(observed.length).toBeGreaterThan(0);
      expect(observed[0]).toBeGreaterThan(0);
    } finally {
      metrics.disable();
      await provider.shutdown();
    }
  });
});

withPostgres('source "postgres-cdc": one slot, one reader', () => {
  it('waits while a previous reader still holds the slot (a killed run), then streams from the stored position', async () => {
    const f = await fixture();
    const store = createFileStateStore({ path: join(dir, 'in-use') });
    const got: FaucetRecord[] = [];
    await runPipeline({
      source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '200ms' })),
      sink: collectingSink(got),
      state: store,
    });
    await f.pool.query(`INSERT INTO ${f.table} VALUES (1, 'a')`);
    // A leftover walsender, as after a SIGKILL: a replication connection streaming from the slot.
    const holder = new pg.Client({
      connectionString: POSTGRES_URL,
      replication: 'database',
    } as pg.ClientConfig);
    await holder.connect();
    holder.on('error', () => {});
    void holder
      .query(
        `START_REPLICATION SLOT "${f.slot}" LOGICAL 0/0 (proto_version '1', publication_names '${f.publication}')`,
      )
      .catch(() => {});
    await new Promise((r) => setTimeout(r, 300));
    setTimeout(() => void holder.end().catch(() => {}), 1200);
    const logs = captureLogger();
    const started = performance.now();
    const result = await runPipeline({
      source: createPostgresCdcSource(config(f, { snapshot: 'never', idle_timeout: '500ms' }), {
        logger: logs.logger,
      }),
      sink: collectingSink(got),
      state: store,
    });
    expect(result.status, result.error?.message).toBe('ok');
    expect(performance.now() - started).toBeGreaterThan(800);
    expect(logs.lines.map((l) => l.msg).join('\n')).toMatch(/still held by a previous reader; retrying/);
    expect(got.map((r) => (r.after as { id: number }).id)).toEqual([1]);
  });
});
