/** The process streams and environment a command uses (replaceable in tests). */

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd() };
}

/** Exit codes of every command. */
export const ExitCode = {
  ok: 0,
  /** A run (or replay, or lookup) failed. */
  failed: 1,
  /** The command line or the pipeline file is wrong; nothing ran. */
  config: 2,
  /** Cancelled by SIGINT (128 + 2) or SIGTERM (128 + 15). */
  interrupted: 130,
  terminated: 143,
} as const;

export function writeLine(stream: NodeJS.WritableStream, text = ''): void {
  stream.write(`${text}\n`);
}
