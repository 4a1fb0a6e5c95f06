/** What every command registration shares: the lazy command modules, the I/O and the exit-code setter. */
import { type Command, Option } from 'commander';
import type { CliIo } from '../io.js';

/**
 * Each command is imported when it runs: `faucet --version` or `--help` loads neither @faucet/core
 * nor any connector, and a command loads only what it uses (bench/cli-startup.mjs measures it).
 */
export const commands = {
  check: () => import('../commands/check.js'),
  connectors: () => import('../commands/connectors.js'),
  dashboard: () => import('../commands/dashboard.js'),
  dlq: () => import('../commands/dlq.js'),
  init: () => import('../commands/init.js'),
  preview: () => import('../commands/preview.js'),
  run: () => import('../commands/run.js'),
  runQueued: () => import('../commands/run-queued.js'),
  runs: () => import('../commands/runs.js'),
  worker: () => import('../commands/worker.js'),
  schema: () => import('../commands/schema.js'),
  state: () => import('../commands/state.js'),
  validate: () => import('../commands/validate.js'),
};

const _outputOption = () =>
  new Option('-o, --output <format>', 'text for people, json for scripts')
    .choices(['text', 'json'])
    .default('text');

export const outputOption = () =>
  new Option('-o, --output <format>', 'text for people, json for scripts')
    .choices(['text', 'json'])
    .default('text');

export interface ProgramContext {
  io: CliIo;
  /** Wrap a command body: its resolved number becomes the process exit code. */
  run: (fn: () => Promise<number> | number) => () => Promise<void>;
}

/** Registers commands on the root program. */
export type Register = (root: Command, ctx: ProgramContext) => void;
