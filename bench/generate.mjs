#!/usr/bin/env node
/**
 * The seeded benchmark dataset as CSV (ARCHITECTURE §11):
 *
 *   node bench/generate.mjs --rows 1000000 --seed 42 --out bench/results/data-1m.csv
 *
 * Columns: id (1..N), first_name (16-name pool), country (10 codes), amount (2-dp, 1-10000),
 * created_at (RFC 3339 UTC from 2020-01-01, +1..90 s per row), active ("true"/"false"),
 * attributes (a JSON string {tier, score, tags}). Rows are written as they are made, in blocks of a
 * few thousand, with backpressure: memory does not grow with --rows. The same seed gives the same
 * file, byte for byte.
 *
 * The main fields use the same PRNG stream, pools and formulas as bench/engine.mjs, so both
 * benchmarks move the same rows; `tags` comes from a second stream (seed + 1) to keep that stream
 * aligned. Other scripts import `csvHeader` / `csvRows` from here.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const FIRST_NAMES = [
  'Ada',
  'Alan',
  'Grace',
  'Linus',
  'Barbara',
  'Ken',
  'Dennis',
  'Margaret',
  'Edsger',
  'Donald',
  'Frances',
  'John',
  'Radia',
  'Tim',
  'Vint',
  'Anita',
];
export const COUNTRIES = ['US', 'DE', 'FR', 'NL', 'JP', 'BR', 'IN', 'GB', 'CA', 'AU'];
export const TIERS = ['free', 'pro', 'enterprise'];
const TAGS = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
export const EPOCH = Date.UTC(2020, 0, 1);

export const csvHeader = 'id,first_name,country,amount,created_at,active,attributes\n';

/** mulberry32: a tiny seeded PRNG (bench/engine.mjs uses it too). */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 1-3 distinct tags, in pool order. */
function pickTags(random) {
  const count = 1 + Math.floor(random() * 3);
  const picked = [];
  for (const tag of TAGS) {
    // Selection sampling: each tag is taken with probability needed / left, so exactly `count`.
    const left = TAGS.length - TAGS.indexOf(tag);
    if (random() * left < count - picked.length) picked.push(tag);
  }
  return picked;
}

/**
 * The dataset's rows as objects, in blocks of at most `block`: `attributes` is an object here (the
 * CSV holds its JSON text). A generator so the caller decides when the next block is made.
 */
export function* recordBlocks({ rows, seed = 42, block = 4096 }) {
  const random = prng(seed);
  const tagRandom = prng(seed + 1);
  let clock = EPOCH;
  for (let start = 0; start < rows; start += block) {
    const end = Math.min(start + block, rows);
    const records = [];
    for (let i = start; i < end; i++) {
      clock += 1000 + Math.floor(random() * 89_000);
      const firstName = FIRST_NAMES[Math.floor(random() * 16)];
      const country = COUNTRIES[Math.floor(random() * 10)];
      const amount = Math.round((1 + random() * 9999) * 100) / 100;
      const createdAt = new Date(clock).toISOString();
      const active = random() < 0.5;
      const attributes = {
        tier: TIERS[Math.floor(random() * 3)],
        score: Math.round(random() * 100_000) / 1000,
        tags: pickTags(tagRandom),
      };
      records.push({
        id: i + 1,
        first_name: firstName,
        country,
        amount,
        created_at: createdAt,
        active,
        attributes,
      });
    }
    yield records;
  }
}

/** CSV text of the dataset, as blocks of at most `block` rows (see recordBlocks). */
export function* csvRows({ rows, seed = 42, block = 4096 }) {
  for (const records of recordBlocks({ rows, seed, block })) {
    let text = '';
    for (const r of records) {
      // RFC 4180: the JSON has quotes, so the field is quoted and its quotes doubled.
      const quoted = `"${JSON.stringify(r.attributes).replaceAll('"', '""')}"`;
      text += `${r.id},${r.first_name},${r.country},${r.amount.toFixed(2)},${r.created_at},${r.active},${quoted}\n`;
    }
    yield text;
  }
}

/** Write the dataset to `out`; resolves with the bytes written. */
export async function writeDataset({ rows, seed = 42, out }) {
  await mkdir(dirname(out), { recursive: true });
  const stream = createWriteStream(out);
  let bytes = 0;
  const write = async (text) => {
    bytes += Buffer.byteLength(text);
    // events.once rejects on 'error' and removes its listeners either way.
    if (!stream.write(text)) await once(stream, 'drain');
  };
  await write(csvHeader);
  for (const text of csvRows({ rows, seed })) await write(text);
  stream.end();
  await finished(stream);
  return bytes;
}

async function main() {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string' },
    },
  });
  const rows = Number(values.rows);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(rows) || rows < 0)
    throw new Error(`--rows must be a whole number, got ${values.rows}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be a whole number, got ${values.seed}`);
  if (!values.out) throw new Error('--out <file.csv> is required');
  const started = performance.now();
  const bytes = await writeDataset({ rows, seed, out: values.out });
  const seconds = (performance.now() - started) / 1000;
  const mib = (bytes / 1024 / 1024).toFixed(1);
  console.error(
    `wrote ${rows.toLocaleString('en')} rows, ${mib} MiB to ${values.out} in ${seconds.toFixed(1)} s`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
