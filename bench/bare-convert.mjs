#!/usr/bin/env node
/**
 * The bare Node converter of issue 18: the least work Node does to turn the benchmark CSV into JSON
 * Lines. readline, split on commas (quoted fields re-joined and unquoted), JSON.stringify, a write
 * stream. No state, no checkpoints, no fsync, no multi-line fields. Its output is byte-identical to
 * faucet's for bench/generate.mjs data (side-by-side.mjs checks that on every run).
 *
 *   node bench/bare-convert.mjs in.csv out.jsonl
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';

const [input, output] = process.argv.slice(2);
const out = createWriteStream(output);
let header;
let buffered = '';
for await (const line of createInterface({
  input: createReadStream(input),
  crlfDelay: Number.POSITIVE_INFINITY,
})) {
  const parts = line.split(',');
  const fields = [];
  for (let i = 0; i < parts.length; i++) {
    let f = parts[i];
    if (f.startsWith('"')) {
      while (!(f.length > 1 && f.endsWith('"') && (f.length - f.replace(/"+$/, '').length) % 2 === 1))
        f += `,${parts[++i]}`;
      f = f.slice(1, -1).replaceAll('""', '"');
    }
    fields.push(f);
  }
  if (!header) {
    header = fields;
    continue;
  }
  const record = {};
  for (let i = 0; i < header.length; i++) record[header[i]] = fields[i];
  buffered += `${JSON.stringify(record)}\n`;
  if (buffered.length < 65536) continue;
  const ok = out.write(buffered);
  buffered = '';
  if (!ok) await once(out, 'drain');
}
out.end(buffered);
await once(out, 'finish');
