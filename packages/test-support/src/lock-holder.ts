/** A child process that holds a state lock, for the stores' "lock held by another process" tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import process from 'node:process';

/**
 * Start `node holder dist ...args` (a fixture script that takes a lock with the store built at
 * `dist`) and wait until it prints `locked`.
 */
export async function spawnLockHolder(
  holder: string,
  dist: string,
  args: readonly string[],
  timeoutMs = 15_000,
): Promise<ChildProcess> {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, [holder, dist, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
