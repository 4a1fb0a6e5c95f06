#!/usr/bin/env node
/**
 * Which Parquet library @faucet/formats uses: the seeded dataset (bench/generate.mjs, decoded with
 * typed CSV) written to a Parquet file in row groups of 10,000 rows and read back row group by row
 * group, with each candidate:
 *
 *   hyparquet (reader) + hyparquet-writer   pure JavaScript
 *   @dsnp/parquetjs 1.8.7                    pure JavaScript (1.8.8+ need Node 24)
 *   parquet-wasm 0.8.0 + apache-arrow        Rust's parquet crate in WebAssembly, Arrow in between
 *
 *   pnpm build
 *   node bench/parquet-libs.mjs --rows 1000000 --runs 3
 *
 * Each (library, direction) is a fresh child process, so its peak RSS is its own; libraries are
 * interleaved round by round. Prints rows/s (median) and peak RSS (max) for write and read; `decode`
 * is the CSV decoding alone that every write includes.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, openAsBlob } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeDataset } from './generate.mjs';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '3' },
    lib: { type: 'string' },
    dir: { type: 'string' },
    libs: { type: 'string', default: 'hyparquet,parquetjs,parquet-wasm' },
  },
});
const rows = Number(values.rows);
const GROUP = 10_000;
const results = fileURLToPath(new URL('./results/', import.meta.url));
const dataPath = `${results}data-${rows}.csv`;
const fileOf = (lib) => `${results}libs-${lib}-${rows}.parquet`;

/** Typed records from the CSV, in groups of GROUP. */
async function* groups() {
  const { decodeCsv } = await import('@faucet/formats');
  const input = createReadStream(dataPath, { highWaterMark: 64 * 1024 });
  for await (const b of decodeCsv(input, { batchSize: GROUP, typed: true, name: dataPath })) {
    if (b.records.length > 0) yield b.records;
  }
}

const COLUMNS = [
  ['id', 'INT64'],
  ['first_name', 'STRING'],
  ['country', 'STRING'],
  ['amount', 'DOUBLE'],
  ['created_at', 'STRING'],
  ['active', 'BOOLEAN'],
  ['attributes', 'STRING'],
];

const writers = {
  async decode() {
    let n = 0;
    for await (const g of groups()) n += g.length;
    return n;
  },
  async hyparquet(path) {
    const { ParquetWriter, ByteWriter } = await import('hyparquet-writer');
    const out = createWriteStream(path);
    class StreamWriter extends ByteWriter {
      flush() {
        const chunk = Buffer.from(this.getBytes());
        this.index = 0;
        if (!out.write(chunk)) return once(out, 'drain').then(() => {});
      }
      finish() {
        return this.flush();
      }
    }
    const schema = [
      { name: 'root', num_children: COLUMNS.length },
      ...COLUMNS.map(([name, type]) => ({
        name,
        repetition_type: 'OPTIONAL',
        ...(type === 'STRING' ? { type: 'BYTE_ARRAY', converted_type: 'UTF8' } : { type }),
      })),
    ];
    const writer = new ParquetWriter({ writer: new StreamWriter(1 << 20), schema });
    let n = 0;
    for await (const g of groups()) {
      const columnData = COLUMNS.map(([name, type]) => ({
        name,
        data: type === 'INT64' ? g.map((r) => BigInt(r[name])) : g.map((r) => r[name]),
      }));
      await writer.write({ columnData, rowGroupSize: GROUP });
      n += g.length;
    }
    await writer.finish();
    out.end();
    await once(out, 'finish');
    return n;
  },
  async parquetjs(path) {
    const { ParquetSchema, ParquetWriter } = await import('@dsnp/parquetjs');
    const types = { INT64: 'INT64', STRING: 'UTF8', DOUBLE: 'DOUBLE', BOOLEAN: 'BOOLEAN' };
    const schema = new ParquetSchema(
      Object.fromEntries(
        COLUMNS.map(([name, t]) => [name, { type: types[t], optional: true, compression: 'SNAPPY' }]),
      ),
    );
    const writer = await ParquetWriter.openFile(schema, path, { rowGroupSize: GROUP });
    let n = 0;
    for await (const g of groups()) {
      for (const r of g) await writer.appendRow(r);
      n += g.length;
    }
    await writer.close();
    return n;
  },
  async 'parquet-wasm'(path) {
    const wasm = await import('parquet-wasm/node');
    const arrow = await import('apache-arrow');
    const { Readable, Writable } = await import('node:stream');
    async function* batches() {
      for await (const g of groups()) {
        const table = arrow.tableFromJSON(g);
        yield wasm.Table.fromIPCStream(arrow.tableToIPC(table, 'stream')).recordBatch(0);
      }
    }
    let n = 0;
    const counted = async function* () {
      for await (const b of batches()) {
        n += b.numRows;
        yield b;
      }
    };
    const props = new wasm.WriterPropertiesBuilder().setCompression(wasm.Compression.SNAPPY).build();
    const bytes = await wasm.transformParquetStream(Readable.toWeb(Readable.from(counted())), props);
    await bytes.pipeTo(Writable.toWeb(createWriteStream(path)));
    return n;
  },
};

const readers = {
  async hyparquet(path) {
    const { parquetMetadataAsync, parquetRead } = await import('hyparquet');
    const { asyncBufferFromFile } = await import('hyparquet/src/node.js');
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    let n = 0;
    let start = 0;
    for (const group of metadata.row_groups) {
      const end = start + Number(group.num_rows);
      await parquetRead({
        file,
        metadata,
        rowStart: start,
        rowEnd: end,
        rowFormat: 'object',
        onComplete: (rows) => {
          n += rows.length;
        },
      });
      start = end;
    }
    return n;
  },
  async parquetjs(path) {
    const { ParquetReader } = await import('@dsnp/parquetjs');
    const reader = await ParquetReader.openFile(path);
    const cursor = reader.getCursor();
    let n = 0;
    while (await cursor.next()) n++;
    await reader.close();
    return n;
  },
  async 'parquet-wasm'(path) {
    const wasm = await import('parquet-wasm/node');
    const arrow = await import('apache-arrow');
    const file = await wasm.ParquetFile.fromFile(await openAsBlob(path));
    const stream = await file.stream({ batchSize: GROUP });
    let n = 0;
    for await (const batch of stream) {
      const table = arrow.tableFromIPC(batch.intoIPCStream());
      for (const row of table) {
        row.toJSON();
        n++;
      }
    }
    return n;
  },
};

async function child() {
  const [lib, direction] = values.lib.split(':');
  const started = performance.now();
  const n = direction === 'write' ? await writers[lib](fileOf(lib)) : await readers[lib](fileOf(lib));
  const seconds = (performance.now() - started) / 1000;
  if (n !== rows) throw new Error(`${lib} ${direction}: ${n} rows, expected ${rows}`);
  console.log(JSON.stringify({ seconds, rssKiB: process.resourceUsage().maxRSS }));
}

function run(lib) {
  const r = spawnSync(
    process.execPath,
    [fileURLToPath(import.meta.url), '--rows', String(rows), '--lib', lib],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`${lib} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

async function main() {
  if (!existsSync(dataPath)) await writeDataset({ rows, out: dataPath });
  const libs = values.libs.split(',');
  const jobs = ['decode:write', ...libs.flatMap((l) => [`${l}:write`, `${l}:read`])];
  const seen = Object.fromEntries(jobs.map((j) => [j, []]));
  for (let round = 0; round < Number(values.runs); round++) {
    for (const job of jobs) seen[job].push(run(job));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const job of jobs) {
    const s = median(seen[job].map((x) => x.seconds));
    const rss = Math.max(...seen[job].map((x) => x.rssKiB)) / 1024;
    console.log(
      `${job.padEnd(20)} ${Math.round(rows / s)
        .toLocaleString('en')
        .padStart(10)} rows/s  ` + `peak RSS ${rss.toFixed(0)} MiB  (median of ${seen[job].length})`,
    );
  }
}

if (values.lib) await child();
else await main();
