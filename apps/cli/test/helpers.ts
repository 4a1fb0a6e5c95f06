/**
 * Test helpers: running the built CLI, files and state to look at, and (from @faucet/test-support)
 * temp directories and fixture connector packages in throwaway node_modules directories.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lastJournalRecord } from '@faucet/core';
import pg from 'pg';
import { afterAll } from 'vitest';

export const CLI_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = resolve(CLI_DIR, '../..');
export const BIN = join(CLI_DIR, 'dist', 'bin.js');

export {
  cleanupTempDirs,
  FAKE_SINK,
  FAKE_SOURCE,
  type FixturePackage,
  fakePluginDir,
  linkRuntime,
  tempDir,
  write,
  writePackage,
} from '@faucet/test-support';

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

export interface StartOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /**
   * Run the child at the a low CPU priority (nice 10), for a test that must catch it in the middle
   * of its run: on a loaded machine the test's own polling then runs before the child, so the child
   * cannot race to its end between the test seeing "well under way" and its kill.
   */
  lowPriority?: boolean;
}

/** Start the built CLI as a child process; `done` resolves when it exits. */
export function startCli(
  args: readonly string[],
  options: StartOptions,
): { child: ChildProcess; done: Promise<CliResult>; output: () => { stdout: string; stderr: string } } {
  assertBuilt();
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, FAUCET_PLUGIN_PATH: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (options.lowPriority && child.pid !== undefined) setPriority(child.pid, 10);
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
  for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) n++;
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
