/** `faucet init [file]`: write a commented starter pipeline file; never overwrites one. */
import { writeFileSync } from 'node:fs';
import { basename, extname, resolve } from 'node:path';
import { NAME_PATTERN, UsageError } from '@faucet/pipeline';
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

/** `faucet init --template kafka`: a Kafka topic to JSON lines, resumable (offsets in the state). */
export function kafkaStarterPipeline(name: string): string {
  return `# yaml-language-server: $schema=./faucet.schema.json
# A faucet pipeline reading a Kafka topic into JSON lines. Each run resumes after the last message it
# stored (every partition's next offset is the bookmark, kept in the state store); the consumer
# group's offsets are committed only after that, so tools watching the group see the true lag.
#   faucet check             can the brokers be reached, does the topic exist, how far behind is the group
#   faucet run               read until the topic has been quiet for idle_timeout, then stop
version: 1
name: ${name}                       # used in state keys: ${name}::row-0

pipeline:
  source:
    type: kafka                       # @faucet/source-kafka
    config:
      brokers: [localhost:9092]
      topics: [orders]                # or topic_pattern: '^orders\\.'
      group_id: ${name}
      auto_offset_reset: earliest     # where a partition without a bookmark or group offset starts
      value_format: json              # json, string or bytes (base64)
      idle_timeout: 10s               # stop once caught up and quiet this long; 0 runs until cancelled
      # auth: { type: sasl_scram, username: faucet, password: "\${env:KAFKA_PASSWORD}" }
      # tls: true
  sink:
    type: file                        # @faucet/sink-file; or kafka, postgres, …
    config:
      path: ./out/messages.jsonl
      format: jsonl
      mode: append
  state:
    type: file
    config:
      path: ./.faucet/state
  # on_record_error: dlq            # set messages that do not decode aside in the dlq (raw bytes, position)
  # dlq:
  #   sink: { type: file, config: { path: ./out/dlq.jsonl, format: jsonl } }
  # delivery: effectively_once        # with sink kafka (transactions) or postgres: no duplicates after a crash
`;
}

const TEMPLATES: Record<string, (name: string) => string> = {
  file: starterPipeline,
  kafka: kafkaStarterPipeline,
};

export interface InitOptions {
  name?: string;
  /** `file` (default) or `kafka`. */
  template?: string;
}

export function initCommand(file: string | undefined, options: InitOptions, io: CliIo): number {
  const template = TEMPLATES[options.template ?? 'file'];
  if (!template) {
    throw new UsageError(
      `--template "${options.template}": choose one of ${Object.keys(TEMPLATES).join(', ')}`,
    );
  }
  const target = resolve(io.cwd, file ?? 'faucet.yaml');
  const stem = basename(target, extname(target));
  const name = options.name ?? (NAME_PATTERN.test(stem) && stem !== 'faucet' ? stem : 'my_pipeline');
  if (!NAME_PATTERN.test(name))
    throw new UsageError(`--name "${name}": use letters, digits, "_", "-" and "." only`);
  try {
    writeFileSync(target, template(name), { flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new UsageError(`${file ?? 'faucet.yaml'} already exists; init never overwrites a file`);
    }
    throw new UsageError(`cannot write ${target}: ${(error as Error).message}`, { cause: error });
  }
  writeLine(io.stdout, `wrote ${file ?? 'faucet.yaml'}; edit it, then run: faucet validate && faucet run`);
  return ExitCode.ok;
}
