/** A child process that holds a state lock, for the stores' "lock held by another process" tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';

/**
 * The holder: creates the store through the BUILT package's descriptor (its default export, as the
 * CLI does), takes the lock, prints `locked` and holds it until killed.
 * Arguments: <dist/index.js> <config JSON> <state key> <ttl ms>.
 */
const HOLD_LOCK = `
import process from 'node:process';
import { pathToFileURL } from 'node:url';
const [entry, config, key, ttl] = process.argv.slice(1);
const { default: descriptor } = await import(pathToFileURL(entry).href);
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const store = await descriptor.create(JSON.parse(config), { logger: quiet });
await store.lock(key, Number(ttl));
process.stdout.write('locked\\n');
setInterval(() => {}, 60_000);
`;

/**
 * Start a process that takes the lock on `key` in the store that the package built at `dist` makes
 * from `config`, and wait until it holds the lock.
 */
export async function spawnLockHolder(
  dist: string,
  config: object,
  key: string,
  ttlMs: number,
  timeoutMs = 15_000,
): Promise<ChildProcess> {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` first`);
  const child = spawn(
    process.execPath,
    ['--input-type=module', '-e', HOLD_LOCK, dist, JSON.stringify(config), key, String(ttlMs)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the lock holder did not take the lock within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('locked')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the lock holder exited with code ${code} before taking the lock: ${stderr}`));
    });
  });
  return child;
}

/** kill -9, and wait until the process is gone. */
export async function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
