/** `faucet init [file]`: write a commented starter pipeline file; never overwrites one. */
import { writeFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { NAME_PATTERN } from '../config/schema.js';
import { UsageError } from '../errors.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';

export function starterPipeline(name: string): string {
  return `# yaml-language-server: $schema=./faucet.schema.json
# ^ editor completion: run \`faucet schema > faucet.schema.json\` once (and again after installing connectors).
#
# A faucet pipeline: read records from a source, transform them, write them to a sink. Each run
# resumes where the last one stopped (the bookmark lives in the state store).
#   faucet validate          check this file and the connectors it names
#   faucet preview --limit 5 show the first records after the transforms
#   faucet run               move the records
version: 1
name: ${name}                       # used in state keys: ${name}::row-0

pipeline:
  source:
    type: file                        # @faucet/source-file; \`faucet connectors\` lists what is installed
    config:
      path: ./data/input.csv          # relative paths are relative to this file
      format: csv
  transforms:                         # run in order; see the README of @faucet/core for all of them
    - type: snake_case                # "First Name" -> first_name
  sink:
    type: file                        # @faucet/sink-file
    config:
      path: ./out/records.jsonl
      format: jsonl
      mode: append
  state:
    type: file                        # built in: one JSON file per state key
    config:
      path: ./.faucet/state
  # dlq:                              # rows the sink rejects go here instead of failing the run
  #   sink: { type: file, config: { path: ./out/dlq.jsonl, format: jsonl } }
  # batch_size: 1000                  # records per page (one checkpoint per page)
  # checkpoint_every: 5s              # or store a checkpoint at most every 5 s (faster; a crash redoes up to 5 s)

# Secrets: never write them here. Use \${env:NAME} (a .env file beside this one is read too) or
# \${file:path/to/secret}; values in fields marked secret are scrubbed from all output.

# matrix:                             # run the pipeline once per row, each row deep-merged onto pipeline
#   - id: users
#     source: { config: { path: ./data/users.csv } }
#   - id: orders
#     depends_on: [users]             # runs after users succeeded
#     source: { config: { path: ./data/orders.csv } }
# execution: { max_concurrent: 4, on_error: continue }   # or stop
`;
}

export function initCommand(file: string | undefined, options: { name?: string }, io: CliIo): number {
  const target = resolve(io.cwd, file ?? 'faucet.yaml');
  const stem = basename(target, extname(target));
  const name = options.name ?? (NAME_PATTERN.test(stem) && stem !== 'faucet' ? stem : 'my_pipeline');
  if (!NAME_PATTERN.test(name))
    throw new UsageError(`--name "${name}": use letters, digits, "_", "-" and "." only`);
  try {
    writeFileSync(target, starterPipeline(name), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${file ?? 'faucet.yaml'} already exists; init never overwrites a file`);
    }
    throw new UsageError(`cannot write ${target}: ${(error as Error).message}`, { cause: error });
  }
  writeLine(io.stdout, `wrote ${file ?? 'faucet.yaml'}; edit it, then run: faucet validate && faucet run`);
  return ExitCode.ok;
}
