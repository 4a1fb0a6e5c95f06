/**
 * Test helpers: temp directories, fixture connector packages in throwaway node_modules directories
 * (they are written at test time: node_modules is git-ignored), and running the built CLI.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastJournalRecord } from '@faucet/core';
import pg from 'pg';
import { afterAll } from 'vitest';

export const CLI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(CLI_DIR, '../..');
export const BIN = join(CLI_DIR, 'dist', 'bin.js');

const dirs: string[] = [];

export function tempDir(prefix = 'faucet-cli-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  dirs.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function write(file: string, text: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

export interface FixturePackage {
  name: string;
  version?: string;
  faucet?: unknown;
  /** ESM source of the entry module (index.js). */
  code?: string;
  /** Leave "./package.json" out of the exports map (like many ESM packages). */
  strictExports?: boolean;
}

/** Write a package into `<nodeModules>/<name>`. */
export function writePackage(nodeModules: string, pkg: FixturePackage): string {
  const dir = join(nodeModules, pkg.name);
  const json: Record<string, unknown> = {
    name: pkg.name,
    version: pkg.version ?? '1.0.0',
    type: 'module',
    exports: pkg.strictExports
      ? { '.': './index.js' }
      : { '.': './index.js', './package.json': './package.json' },
  };
  if (pkg.faucet !== undefined) json.faucet = pkg.faucet;
  write(join(dir, 'package.json'), JSON.stringify(json, null, 2));
  write(join(dir, 'index.js'), pkg.code ?? 'export default {};\n');
  return dir;
}

const require = createRequire(join(CLI_DIR, 'package.json'));

/** Symlink @faucet/core and zod into a fixture node_modules so fixture connectors can import them. */
export function linkRuntime(nodeModules: string): void {
  const core = dirname(require.resolve('@faucet/core/package.json'));
  const zod = dirname(require.resolve('zod/package.json'));
  mkdirSync(join(nodeModules, '@faucet'), { recursive: true });
  if (!existsSync(join(nodeModules, '@faucet', 'core')))
    symlinkSync(realpathSync(core), join(nodeModules, '@faucet', 'core'));
  if (!existsSync(join(nodeModules, 'zod'))) symlinkSync(realpathSync(zod), join(nodeModules, 'zod'));
}

/**
 * A source that counts: records `{id: "<prefix><n>", n, parent}` in pages of the batch size, each
 * page a checkpoint `{offset}`. Or the given `records`. Can fail after some records or sleep per page.
 */
export const FAKE_SOURCE = `
import { defineSource, secret, SourceError } from '@faucet/core';
import { z } from 'zod';
export const configSchema = z.strictObject({
  count: z.number().int().min(0).default(10),
  prefix: z.string().default(''),
  records: z.array(z.record(z.string(), z.unknown())).optional(),
  fail_after: z.number().int().min(0).optional(),
  fail_message: z.string().optional(),
  delay_ms: z.number().int().min(0).default(0),
  connection_url: secret(z.string()).optional(),
  token: secret(z.string()).optional(),
  label: z.string().optional(),
  fail_if_label: z.string().optional(),
  full_table: z.boolean().default(false),
});
export default defineSource({
  id: 'fake',
  version: '1.2.3',
  description: 'counts records (tests)',
  configSchema,
  create(config) {
    return {
      rereadsAll: config.full_table,
      async *read(ctx) {
        if (config.fail_if_label !== undefined && config.fail_if_label === config.label) {
          throw new SourceError('the fake source was told to fail for ' + config.label, { connector: 'fake' });
        }
        let offset = ctx.bookmark?.offset ?? 0;
        const total = config.records ? config.records.length : config.count;
        while (offset < total) {
          if (config.delay_ms) await new Promise((r) => setTimeout(r, config.delay_ms));
          const n = Math.min(ctx.batchSize, total - offset);
          if (config.fail_after !== undefined && offset + n > config.fail_after) {
            throw new SourceError(config.fail_message ?? 'the fake source failed', { connector: 'fake' });
          }
          const records = [];
          for (let i = 0; i < n; i++) {
            const at = offset + i;
            records.push(config.records ? config.records[at] : {
              id: config.prefix + (at + 1), n: at + 1, parent: ctx.parent ?? null, label: config.label ?? null,
            });
          }
          offset += n;
          yield { records, bookmark: { offset } };
        }
      },
    };
  },
});
`;

/**
 * A sink appending JSON lines to \`path\`. Rows whose \`reject_field\` (default \`reject\`) is true are
 * reported failed;
 * \`fail: true\` makes every write throw an error that quotes connection_url (a secret).
 */
export const FAKE_SINK = `
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineSink, secret } from '@faucet/core';
import { z } from 'zod';
export const configSchema = z.strictObject({
  path: z.string().min(1),
  connection_url: secret(z.string()).optional(),
  fail: z.boolean().default(false),
  reject_field: z.string().default('reject'),
});
export default defineSink({
  id: 'fake',
  version: '2.0.0',
  configSchema,
  create(config) {
    mkdirSync(dirname(config.path), { recursive: true });
    return {
      appends: true,
      async write(records) {
        if (config.fail) throw new Error('cannot reach ' + config.connection_url + ' (connection refused)');
        const failed = [];
        const lines = [];
        records.forEach((r, index) => {
          if (r[config.reject_field] === true) {
            failed.push({ index, error: new Error('rejected row ' + r.id + ' by ' + config.connection_url) });
          }
          else lines.push(JSON.stringify(r));
        });
        if (lines.length) appendFileSync(config.path, lines.join('\\n') + '\\n');
        return { failed };
      },
    };
  },
});
`;

/** A plugin directory (for FAUCET_PLUGIN_PATH) holding faucet-source-fake and faucet-sink-fake. */
export function fakePluginDir(): string {
  const dir = tempDir('faucet-plugins-');
  const nodeModules = join(dir, 'node_modules');
  linkRuntime(nodeModules);
  writePackage(nodeModules, {
    name: 'faucet-source-fake',
    version: '1.2.3',
    faucet: { apiVersion: 1, kind: 'source', id: 'fake' },
    code: FAKE_SOURCE,
  });
  writePackage(nodeModules, {
    name: 'faucet-sink-fake',
    version: '2.0.0',
    faucet: { apiVersion: 1, kind: 'sink', id: 'fake' },
    code: FAKE_SINK,
  });
  return dir;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function assertBuilt(): void {
  if (!existsSync(BIN)) {
    throw new Error(`${BIN} is missing: build first (cd ${REPO_DIR} && pnpm build), then run the CLI tests`);
  }
}

/** Start the built CLI as a child process; `done` resolves when it exits. */
export function startCli(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): { child: ChildProcess; done: Promise<CliResult>; output: () => { stdout: string; stderr: string } } {
  assertBuilt();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, FAUCET_PLUGIN_PATH: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<CliResult>((resolvePromise, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
  return { child, done, output: () => ({ stdout, stderr }) };
}

/** Run the built CLI to its end. */
export function runCli(
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<CliResult> {
  return startCli(args, options).done;
}

/** Append rows `id,name,amount` for ids from..to (inclusive) to a CSV, writing the header first if new. */
export function writeCsv(file: string, from: number, to: number, header = true): void {
  const parts: string[] = header ? ['id,name,amount\n'] : [];
  for (let id = from; id <= to; id++) parts.push(`${id},name ${id},${(id % 1000) + 0.25}\n`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, parts.join(''), { flag: header ? 'w' : 'a' });
}

/** The JSON objects of a JSON-lines file ([] when it does not exist). */
export function readJsonl(file: string): Array<Record<string, unknown>> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/**
 * Keys and values of a file state store directory, as the store reads them: while a run holds a
 * key (or was killed holding it) its `<name>.journal` holds the newest value and wins over `<name>`.
 */
export function readStateDir(dir: string): Record<string, { bookmark: unknown; updated_at: string }> {
  const out: Record<string, { bookmark: unknown; updated_at: string }> = {};
  if (!existsSync(dir)) return out;
  const names = readdirSync(dir);
  for (const name of names) {
    if (!name.endsWith('.json') && !name.endsWith('.json.journal')) continue;
    const valueName = name.endsWith('.journal') ? name.slice(0, -'.journal'.length) : name;
    if (valueName === name && names.includes(`${name}.journal`)) continue;
    const key = valueName.slice(0, -5).replaceAll('%3A', ':');
    if (valueName === name) {
      out[key] = JSON.parse(readFileSync(join(dir, name), 'utf8'));
      continue;
    }
    const read = lastJournalRecord(readFileSync(join(dir, name)));
    if (read.state !== 'value')
      throw new Error(`${name}: ${read.state === 'corrupt' ? read.reason : 'missing'}`);
    out[key] = JSON.parse(read.text);
  }
  return out;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until `check` is true (polling), or fail after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Count the lines of a file quickly (0 when it does not exist). */
export function countLines(file: string): number {
  if (!existsSync(file)) return 0;
  const buffer = readFileSync(file);
  let n = 0;
  for (const byte of buffer) if (byte === 10) n++;
  return n;
}

export { withPostgres } from '@faucet/test-support';

/**
 * A small CDC set-up of a test file's own: schema `<prefix>_<hex>` with table `t` (rows 1 'a' and
 * 2 'b') published as `<schema>_pub`, slot `<schema>_slot`; all of it dropped after the file's tests.
 * `pipeline()` is a CDC -> JSONL pipeline file on it with file state.
 */
export function useCdcFixture(url: string, prefix: string) {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  const slot = `${schema}_slot`;
  const publication = `${schema}_pub`;
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  afterAll(async () => {
    await pool.query(
      'SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1',
      [slot],
    );
    await pool.query(`DROP PUBLICATION IF EXISTS ${publication}`);
    await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await pool.end();
  });
  return {
    schema,
    slot,
    publication,
    pool,
    async create(): Promise<void> {
      await pool.query(`CREATE SCHEMA ${schema}`);
      await pool.query(`CREATE TABLE ${schema}.t (id int PRIMARY KEY, name text)`);
      await pool.query(`INSERT INTO ${schema}.t VALUES (1, 'a'), (2, 'b')`);
      await pool.query(`CREATE PUBLICATION ${publication} FOR TABLE ${schema}.t`);
    },
    pipeline(options: { idle: string; publication?: string }): string {
      return `version: 1
name: ${schema}
pipeline:
  source:
    type: postgres-cdc
    config:
      connection_url: \${env:FAUCET_TEST_POSTGRES_URL}
      slot_name: ${slot}
      publication_name: ${options.publication ?? publication}
      idle_timeout: ${options.idle}
  sink: { type: file, config: { path: out.jsonl, format: jsonl } }
  state: { type: file, config: { path: state } }
`;
    },
  };
}
