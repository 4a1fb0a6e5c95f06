#!/usr/bin/env node
/**
 * One huge record: a file holding a single record of --mb megabytes, decoded by @faucet/formats as
 * the file source reads it (a 64 KiB fs stream). Time to decode and the process's peak RSS, each run
 * in a fresh child process.
 *
 *   pnpm build
 *   node bench/huge-record.mjs [--mb 50] [--runs 3] [--cases jsonl,csv,csv-unclosed,json] [--json]
 *   node bench/huge-record.mjs --formats bench/results/formats-before/dist/index.js,@faucet/formats
 *
 * Cases (files generated once into bench/results/huge-<case>-<mb>mb.*):
 * - jsonl: one line `{"id":1,"blob":"xxxx…"}` and a line break;
 * - csv: a header and one row whose second field is quoted and holds the blob, with a line break
 *   every 80 characters inside the quotes (so line counting inside quotes is part of the work);
 * - csv-unclosed: the same row with its closing quote missing: decoding ends with an error naming
 *   the unclosed quote (the time to that error is measured);
 * - json: a JSON array holding that one object.
 * `--formats` names the build(s) to load, comma-separated (default: this checkout's @faucet/formats),
 * e.g. the code before a change copied under bench/results so that its `@faucet/core` import
 * resolves; with several, every round runs each case with each build in turn, so both see the same
 * machine. "idle RSS" is a child that reads the same file through the same stream without decoding.
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '50' },
    runs: { type: 'string', default: '3' },
    cases: { type: 'string', default: 'jsonl,csv,csv-unclosed,json' },
    formats: { type: 'string', default: '@faucet/formats' },
    child: { type: 'string' },
    idle: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const mb = Number(values.mb);
const results = fileURLToPath(new URL('./results/', import.meta.url));
const EXT = { jsonl: 'jsonl', csv: 'csv', 'csv-unclosed': 'csv', json: 'json' };
const FORMAT = { jsonl: 'jsonl', csv: 'csv', 'csv-unclosed': 'csv', json: 'json' };

function pathOf(name) {
  return `${results}huge-${name}-${mb}mb.${EXT[name]}`;
}

/** The blob: `size` bytes of ASCII, with a line break every 80 characters when `lines` is set. */
function blob(size, lines) {
  const line = `${'abcdefghij'.repeat(8).slice(0, 79)}${lines ? '\n' : 'x'}`;
  return line.repeat(Math.ceil(size / line.length)).slice(0, size);
}

function generate(name) {
  const path = pathOf(name);
  if (existsSync(path)) return path;
  mkdirSync(results, { recursive: true });
  const size = mb * 1024 * 1024;
  let text;
  if (name === 'jsonl') text = `{"id":1,"blob":"${blob(size, false)}"}\n`;
  else if (name === 'json') text = `[{"id":1,"blob":"${blob(size, false)}"}]\n`;
  else if (name === 'csv') text = `id,blob\n1,"${blob(size, true)}"\n`;
  else text = `id,blob\n1,"${blob(size, true)}\n`;
  writeFileSync(path, text);
  return path;
}

async function child(name, build) {
  const path = pathOf(name);
  const spec = build.startsWith('@') ? build : pathToFileURL(resolve(build)).href;
  const { decodeRecords } = await import(spec); // loaded before the clock starts
  const input = createReadStream(path, { highWaterMark: 64 * 1024 });
  const started = process.hrtime.bigint();
  let records = 0;
  let error;
  if (values.idle) {
    for await (const _ of input) records += 0;
  } else {
    try {
      for await (const batch of decodeRecords(FORMAT[name], input, { name: path })) {
        records += batch.records.length;
      }
    } catch (e) {
      error = e.message.slice(0, 160);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(JSON.stringify({ records, seconds, peakRssMiB, error }));
}

function runChild(name, build, idle) {
  const args = [fileURLToPath(import.meta.url), '--child', name, '--mb', String(mb), '--formats', build];
  if (idle) args.push('--idle');
  const res = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`bench child failed:\n${res.stderr}`);
  return JSON.parse(res.stdout);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const runs = Number(values.runs);
  const cases = values.cases.split(',');
  const builds = values.formats.split(',');
  for (const name of cases) generate(name);
  const key = (name, build) => `${name}\u0000${build}`;
  const all = new Map();
  const idle = new Map(cases.map((c) => [c, []]));
  // Rounds interleave cases and builds, so a burst of load on the machine does not land on one only.
  for (let i = 0; i < runs; i++) {
    for (const name of cases) {
      for (const build of builds) {
        if (!all.has(key(name, build))) all.set(key(name, build), []);
        all.get(key(name, build)).push(runChild(name, build, false));
      }
      idle.get(name).push(runChild(name, builds[0], true));
    }
  }
  const rows = [];
  for (const name of cases) {
    for (const build of builds) {
      const runsOf = all.get(key(name, build));
      rows.push({
        case: name,
        mb,
        formats: build,
        runs,
        medianSeconds: Math.round(median(runsOf.map((r) => r.seconds)) * 1000) / 1000,
        peakRssMiB: Math.round(Math.max(...runsOf.map((r) => r.peakRssMiB)) * 10) / 10,
        idleRssMiB: Math.round(Math.max(...idle.get(name).map((r) => r.peakRssMiB)) * 10) / 10,
        records: runsOf[0].records,
        error: runsOf[0].error,
      });
    }
  }
  if (values.json) console.log(JSON.stringify(rows));
  else {
    console.log(`one ${mb} MB record, ${runs} runs each`);
    for (const r of rows) {
      console.log(
        `  ${r.case.padEnd(13)} ${r.formats}: median ${r.medianSeconds.toFixed(3)} s, peak RSS ${r.peakRssMiB} MiB ` +
          `(idle read ${r.idleRssMiB} MiB), ${r.records} record(s)${r.error ? `, error: ${r.error}` : ''}`,
      );
    }
  }
}

if (values.child) await child(values.child, values.formats);
else await main();
