/**
 * Parsers and defaults of command-line values. Kept free of @faucet/core and of the commands, so
 * cli.ts can build the program (and answer `--version` or `--help`) without loading them.
 */
import { InvalidArgumentError } from 'commander';

export const DEFAULT_METRICS_HOST = '127.0.0.1';

/** A whole number of at least 1, for `flag`. */
export const positiveInt =
  (flag: string) =>
  (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${flag} must be a whole number of at least 1, got "${value}"`);
    }
    return Number(value);
  };

/** A TCP port number from 0 (any free port) to 65535, for `flag`. */
export const portOf =
  (flag: string) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n > 65535) {
      throw new InvalidArgumentError(`${flag} must be a port number from 0 to 65535, got "${value}"`);
    }
    return n;
  };

export const port = portOf('--metrics-port');

/** `faucet dashboard`'s port when `--port` is not given. */
export const DEFAULT_DASHBOARD_PORT = 3000;

export const seconds = (flag: string) => (value: string) => {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n > 86_400) {
    throw new InvalidArgumentError(`${flag} must be a number of seconds from 0 to 86400, got "${value}"`);
  }
  return n;
};

/** `--queue` runs submit jobs: what only a local run does is refused (exit 2), as is `--detach` alone. */
export function queueFlagProblem(opts: {
  queue?: string;
  detach?: boolean;
  dryRun?: boolean;
  limit?: number;
  metricsPort?: number;
}): string | undefined {
  if (opts.queue === undefined) return opts.detach ? '--detach needs --queue' : undefined;
  for (const [flag, given] of [
    ['--dry-run', opts.dryRun],
    ['--limit', opts.limit],
    ['--metrics-port', opts.metricsPort],
  ] as const) {
    if (given !== undefined && given !== false) return `${flag} cannot be used with --queue`;
  }
  return undefined;
}
