#!/usr/bin/env node
/**
 * Two builds of @faucet/formats on the same files: are the decoded records, offsets and line numbers
 * identical, and how much CPU time does each take to decode? (CPU time, not wall time: on a loaded
 * machine it moves less.)
 *
 *   node bench/decode-identical.mjs --before bench/results/formats-before/dist/index.js --derive \
 *     bench/results/data-1000000.csv bench/results/huge-csv-50mb.csv bench/results/huge-jsonl-50mb.jsonl
 *
 * `--derive` also checks a JSON Lines and a JSON-array copy of each CSV file (written beside it as
 * `.derived.jsonl` / `.derived.json`: one object per row with the row's text, every seventh with
 * multi-byte characters, every fifth JSON line ending in CRLF).
 *
 * For each file (format from the extension) and build: a SHA-256 over the JSON Lines encoding of
 * every batch (batch size 777, so batches end in odd places) followed by its offset and line.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    before: { type: 'string' },
    after: { type: 'string', default: '@faucet/formats' },
    derive: { type: 'boolean', default: false },
  },
});
if (!values.before || positionals.length === 0) {
  console.error('usage: node bench/decode-identical.mjs --before <dist/index.js> [--after <…>] <files…>');
  process.exit(2);
}
const load = (spec) => import(spec.startsWith('@') ? spec : pathToFileURL(resolve(spec)).href);
const builds = { before: await load(values.before), after: await load(values.after) };

async function digest(formats, file) {
  const format = file.endsWith('.csv') ? 'csv' : file.endsWith('.json') ? 'json' : 'jsonl';
  const hash = createHash('sha256');
  let records = 0;
  const cpu = process.cpuUsage();
  const input = createReadStream(file, { highWaterMark: 64 * 1024 });
  for await (const batch of formats.decodeRecords(format, input, { batchSize: 777 })) {
    hash.update(formats.encodeJsonlText(batch.records));
    hash.update(`@${batch.offset}:${batch.line}\n`);
    records += batch.records.length;
  }
  const used = process.cpuUsage(cpu);
  return { records, sha256: hash.digest('hex').slice(0, 16), cpuSeconds: (used.user + used.system) / 1e6 };
}

/** JSON Lines and JSON-array copies of a CSV file's rows. */
async function derive(csv) {
  const { createWriteStream } = await import('node:fs');
  const { once } = await import('node:events');
  const { createInterface } = await import('node:readline');
  const jsonl = createWriteStream(`${csv}.derived.jsonl`);
  const json = createWriteStream(`${csv}.derived.json`);
  json.write('[\n');
  let i = 0;
  for await (const line of createInterface({ input: createReadStream(csv) })) {
    if (i > 0) {
      const record = JSON.stringify({ i, line, u: i % 7 === 0 ? `Grüße 😀 ✓ ${i}` : 'x' });
      jsonl.write(`${record}${i % 5 === 0 ? '\r\n' : '\n'}`);
      json.write(`${i > 1 ? ',\n' : ''}${record}`);
      if (jsonl.writableNeedDrain) await once(jsonl, 'drain');
      if (json.writableNeedDrain) await once(json, 'drain');
    }
    i++;
  }
  json.end('\n]\n');
  jsonl.end();
  await Promise.all([once(jsonl, 'finish'), once(json, 'finish')]);
  return [`${csv}.derived.jsonl`, `${csv}.derived.json`];
}

const files = [...positionals];
if (values.derive) {
  for (const file of positionals) if (file.endsWith('.csv')) files.push(...(await derive(file)));
}

for (const file of files) {
  const before = await digest(builds.before, file);
  const after = await digest(builds.after, file);
  const same = before.records === after.records && before.sha256 === after.sha256;
  console.log(
    `${file}: ${same ? 'identical' : 'DIFFERENT'} — ${after.records} records; CPU ` +
      `${before.cpuSeconds.toFixed(2)} s before, ${after.cpuSeconds.toFixed(2)} s after`,
  );
  if (!same) process.exitCode = 1;
}
