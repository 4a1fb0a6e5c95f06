#!/usr/bin/env node
/**
 * CLI start-up: whole `faucet` processes, as a user starts them, on the quick start.
 *
 *   node bench/cli-startup.mjs [--runs 20] [--cli label=path/to/bin.js ...] [--node path/to/node]
 *
 * Three commands, each run `--runs` times: `faucet --version`, `faucet validate pipeline.yaml` and a
 * no-op `faucet run pipeline.yaml` (the quick start after a first run: 0 new records). Every
 * `--cli` (default: this checkout's apps/cli/dist/bin.js) gets its own copy of the quick start.
 * Rounds are interleaved (each round runs every command of every CLI once), so a change in the
 * machine's load hits all of them alike. Prints the median and the spread of the wall time, the
 * median CPU time (user + system, when /usr/bin/time exists) and the load average before and after.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    cli: { type: 'string', multiple: true, default: [`this=${join(repo, 'apps/cli/dist/bin.js')}`] },
    node: { type: 'string', default: process.execPath },
    json: { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);
const node = values.node;
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

const COMMANDS = [
  { name: 'faucet --version', args: ['--version'] },
  { name: 'faucet validate (quick start)', args: ['validate', 'pipeline.yaml'] },
  { name: 'faucet run (quick start, 0 new records)', args: ['run', 'pipeline.yaml', '-q'] },
];

const clis = values.cli.map((spec) => {
  const at = spec.indexOf('=');
  const [label, bin] = at < 0 ? [spec, spec] : [spec.slice(0, at), spec.slice(at + 1)];
  if (!existsSync(bin)) throw new Error(`${bin} is missing: build first (pnpm build)`);
  const dir = mkdtempSync(join(tmpdir(), 'faucet-bench-startup-'));
  cpSync(join(repo, 'examples/quickstart/pipeline.yaml'), join(dir, 'pipeline.yaml'));
  cpSync(join(repo, 'examples/quickstart/data'), join(dir, 'data'), { recursive: true });
  return { label, bin: resolve(bin), dir };
});

/** One whole process; wall time in ms, and CPU time in ms when /usr/bin/time can measure it. */
function once(cli, args) {
  const cpuFile = join(cli.dir, 'cpu.txt');
  const [command, argv] = timeBin
    ? [timeBin, ['-o', cpuFile, '-f', '%U %S', node, cli.bin, ...args]]
    : [node, [cli.bin, ...args]];
  const started = process.hrtime.bigint();
  const result = spawnSync(command, argv, { cwd: cli.dir, encoding: 'utf8' });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`${cli.label}: faucet ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  let cpuMs;
  if (timeBin) {
    const [user, system] = readFileSync(cpuFile, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    cpuMs = (user + system) * 1000;
  }
  return { wallMs, cpuMs };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

// The first run stores the quick start's state, so every measured run finds 0 new records.
for (const cli of clis) once(cli, ['run', 'pipeline.yaml', '-q']);

const loadBefore = loadavg();
const samples = new Map();
for (let round = 0; round < runs; round++) {
  for (const command of COMMANDS) {
    for (const cli of clis) {
      const key = `${cli.label}\u0000${command.name}`;
      if (!samples.has(key)) samples.set(key, []);
      samples.get(key).push(once(cli, command.args));
    }
  }
}
const loadAfter = loadavg();
for (const cli of clis) rmSync(cli.dir, { recursive: true, force: true });

const rows = [];
for (const command of COMMANDS) {
  for (const cli of clis) {
    const runsOf = samples.get(`${cli.label}\u0000${command.name}`);
    const walls = runsOf.map((r) => r.wallMs);
    rows.push({
      command: command.name,
      cli: cli.label,
      medianMs: Math.round(median(walls)),
      minMs: Math.round(Math.min(...walls)),
      maxMs: Math.round(Math.max(...walls)),
      medianCpuMs: timeBin ? Math.round(median(runsOf.map((r) => r.cpuMs))) : null,
    });
  }
}
const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
const nodeVersion = spawnSync(node, ['-v'], { encoding: 'utf8' }).stdout.trim();
if (values.json) {
  console.log(JSON.stringify({ node: nodeVersion, runs, loadBefore, loadAfter, rows }));
} else {
  console.log(`CLI start-up on Node ${nodeVersion}, ${runs} interleaved runs per command and CLI`);
  console.log(`load average before: ${load(loadBefore)}, after: ${load(loadAfter)}`);
  console.log('| command | CLI | median wall | min – max | median CPU |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    const cpu = r.medianCpuMs === null ? 'n/a' : `${r.medianCpuMs} ms`;
    console.log(`| ${r.command} | ${r.cli} | ${r.medianMs} ms | ${r.minMs} – ${r.maxMs} ms | ${cpu} |`);
  }
}
