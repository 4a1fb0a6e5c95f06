/**
 * Kills a process with SIGKILL while it writes state through the real file store, then checks what
 * is on disk. The child runs the current src/ (not a copy of the algorithm, not a possibly stale
 * dist/): the test transpiles packages/core/src with the workspace's `typescript` into a temp dir,
 * next to a link to the package's node_modules, because Node 20 cannot load .ts files itself.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileStateStore } from '../src/index.js';

const KEY = 'crash::row-0';
const KILLS = 20;
const CORE_SRC = fileURLToPath(new URL('../src/', import.meta.url));
const CORE_NODE_MODULES = fileURLToPath(new URL('../node_modules', import.meta.url));

/** Puts values of varying size in a tight loop; says "ready" once the first one is stored. */
const WRITER = `
import { pathToFileURL } from 'node:url';
const [modulePath, dir, key, first] = process.argv.slice(2);
const { createFileStateStore } = await import(pathToFileURL(modulePath).href);
const store = createFileStateStore({ path: dir });
for (let seq = Number(first); ; seq++) {
  const size = 1 + ((seq * 7919) % 400_000);
  await store.put(key, { seq, size, payload: 'x'.repeat(size), end: seq });
  if (seq === Number(first)) process.stdout.write('ready\\n');
}
`;

/**
 * At the wall-clock time it is given (so that racers start together), tries to lock; on success
 * holds the lock until killed. Prints "won" or "refused <code> <message>".
 */
const LOCKER = `
import { pathToFileURL } from 'node:url';
const [modulePath, dir, key, startAt] = process.argv.slice(2);
const { createFileStateStore } = await import(pathToFileURL(modulePath).href);
const store = createFileStateStore({ path: dir });
await new Promise((resolve) => setTimeout(resolve, Number(startAt) - Date.now()));
try {
  await store.lock(key, 60_000);
  process.stdout.write('won\\n');
  setInterval(() => {}, 1000);
} catch (error) {
  process.stdout.write('refused ' + error.code + ' ' + error.message + '\\n');
}
`;

let work: string;
let writer: string;
let locker: string;
let fileStoreModule: string;

async function transpileCoreSources(outDir: string): Promise<void> {
  for (const entry of await readdir(CORE_SRC, { recursive: true })) {
    if (!entry.endsWith('.ts') || entry.endsWith('.d.ts')) continue;
    const { outputText } = ts.transpileModule(await readFile(join(CORE_SRC, entry), 'utf8'), {
      fileName: entry,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        verbatimModuleSyntax: true,
      },
    });
    const out = join(outDir, entry.replace(/\.ts$/, '.js'));
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, outputText);
  }
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faucet-state-crash-'));
  await writeFile(join(work, 'package.json'), JSON.stringify({ type: 'module' }));
  await symlink(CORE_NODE_MODULES, join(work, 'node_modules'), 'dir');
  await transpileCoreSources(join(work, 'src'));
  fileStoreModule = join(work, 'src', 'state', 'file.js');
  writer = join(work, 'writer.mjs');
  await writeFile(writer, WRITER);
  locker = join(work, 'locker.mjs');
  await writeFile(locker, LOCKER);
});

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** Start a writer, wait until it has stored its first value, let it run a little, SIGKILL it. */
async function killWriterMidFlight(dir: string, firstSeq: number): Promise<void> {
  const child = spawn(process.execPath, [writer, fileStoreModule, dir, KEY, String(firstSeq)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ?? code)),
  );
  const ready = new Promise<boolean>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(true);
    });
    void exited.then(() => resolve(false));
  });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 30_000);
  try {
    if (!(await ready)) throw new Error(`the writer process exited before its first put:\n${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 40));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
  } finally {
    clearTimeout(timeout);
  }
}

describe('file state store under SIGKILL', () => {
  it(`leaves a complete value after each of ${KILLS} kills in the middle of puts`, async () => {
    const dir = join(work, 'state');
    const reader = createFileStateStore({ path: dir });
    let lastSeq = 0;
    let killsWithTempLeft = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      await killWriterMidFlight(dir, lastSeq + 1);
      const value = (await reader.get(KEY)) as { seq: number; size: number; payload: string; end: number };
      expect(value.payload.length).toBe(value.size);
      expect(value.end).toBe(value.seq);
      // Written by this child (its first put finished before "ready"), and never older than before.
      expect(value.seq).toBeGreaterThan(lastSeq);
      lastSeq = value.seq;
      const entries = await readdir(dir);
      if (entries.some((entry) => entry.endsWith('.tmp'))) killsWithTempLeft++;
      expect(await reader.list()).toEqual([KEY]);
    }
    // Proof that the kills landed inside the write window, not only between puts.
    expect(killsWithTempLeft).toBeGreaterThan(0);
  }, 180_000);
});

/** Run a locker process; resolves with its first line of output. */
function runLocker(dir: string, key: string, startAt = 0): { child: ChildProcess; line: Promise<string> } {
  const child = spawn(process.execPath, [locker, fileStoreModule, dir, key, String(startAt)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const line = new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(stdout.split('\n')[0] ?? '');
    });
    child.once('close', () => reject(new Error(`the locker exited without answering:\n${stderr}`)));
  });
  return { child, line };
}

describe('file state store locks across processes', () => {
  it('lets exactly one of several processes racing for a key win; the rest name the holder', async () => {
    const dir = join(work, 'locks');
    const key = 'race::row-0';
    for (const round of ['free key', 'lock left by a killed process']) {
      let dead: ChildProcess | undefined;
      if (round !== 'free key') {
        // A run that held the lock and was killed: its lock file stays behind.
        const first = runLocker(dir, key);
        expect(await first.line).toBe('won');
        first.child.kill('SIGKILL');
        await new Promise((resolve) => first.child.once('exit', resolve));
        dead = first.child;
      }
      const startAt = Date.now() + 1_500;
      const racers = Array.from({ length: 6 }, () => runLocker(dir, key, startAt));
      try {
        const lines = await Promise.all(racers.map((r) => r.line));
        const winners = racers.filter((_, i) => lines[i] === 'won');
        expect(winners, `${round}: ${lines.join(' | ')}`).toHaveLength(1);
        const winnerPid = winners[0]?.child.pid;
        for (const line of lines.filter((l) => l !== 'won')) {
          expect(line).toContain('refused STATE_LOCKED');
          expect(line).toContain(`"${key}"`);
          expect(line).toContain(`pid ${winnerPid} on ${hostname()}`);
        }
        if (dead) expect(winnerPid).not.toBe(dead.pid);
      } finally {
        for (const r of racers) r.child.kill('SIGKILL');
        await Promise.all(
          racers.map((r) =>
            r.child.exitCode === null && r.child.signalCode === null
              ? new Promise((resolve) => r.child.once('exit', resolve))
              : undefined,
          ),
        );
        for (const r of racers) void r.line.catch(() => undefined);
      }
    }
  }, 60_000);
});
