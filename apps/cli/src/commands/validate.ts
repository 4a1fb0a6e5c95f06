/**
 * `faucet validate [config]`: load, expand and check everything a run would check before reading a
 * record (structure, interpolation, every connector found and its config valid, DAG, state keys, and
 * what the engine refuses: effectively_once without an idempotent sink or a durable store, a dlq
 * where none may be, …), then print one line per invocation with its state key and connectors.
 * Nothing is read or written.
 */
import { type JsonObject, silentLogger } from '@faucet/core';
import {
  assertRunnable,
  type LoadedConnector,
  type LoadedPipeline,
  type LoadedRow,
  loadPipeline,
} from '@faucet/pipeline';
import { cliHost } from '../cli-package.js';
import { type CliIo, ExitCode, writeLine } from '../io.js';
import { loadOrReport } from './common.js';

function connectorJson(c: LoadedConnector): JsonObject {
  return { type: c.spec.type, id: c.descriptor.id, package: c.resolved.package, version: c.resolved.version };
}

function connectorText(c: LoadedConnector): string {
  const where = c.resolved.builtin ? 'built in' : `${c.resolved.package} ${c.resolved.version}`;
  return `${c.spec.type} (${where})`;
}

function stateKeyOf(row: LoadedRow): string {
  return row.parent === undefined
    ? row.stateKey
    : `${row.stateKey}::<${row.parentKey} of each "${row.parent}" record>`;
}

export function describePipeline(pipeline: LoadedPipeline): JsonObject {
  return {
    pipeline: pipeline.name,
    file: pipeline.displayFile,
    execution: { max_concurrent: pipeline.execution.maxConcurrent, on_error: pipeline.execution.onError },
    rows: pipeline.order.map((id) => {
      const row = pipeline.rowsById.get(id) as LoadedRow;
      const out: JsonObject = {
        id: row.id,
        state_key: stateKeyOf(row),
        source: connectorJson(row.connectors.source),
        sink: connectorJson(row.connectors.sink),
        transforms: row.transforms.map((t) => t.type),
      };
      if (row.connectors.state) out.state = connectorJson(row.connectors.state);
      if (row.connectors.dlq) out.dlq = connectorJson(row.connectors.dlq);
      if (row.parent !== undefined) {
        out.parent = row.parent;
        out.parent_key = row.parentKey;
      }
      if (row.dependsOn.length > 0) out.depends_on = row.dependsOn;
      return out;
    }),
  };
}

export async function validateCommand(
  config: string | undefined,
  options: { output?: 'text' | 'json' },
  io: CliIo,
): Promise<number> {
  const pipeline = await loadOrReport(
    async () => {
      const loaded = await loadPipeline(config, { env: io.env, cwd: io.cwd, host: cliHost() });
      await assertRunnable(loaded, silentLogger);
      return loaded;
    },
    options.output,
    io,
  );
  if (options.output === 'json') {
    writeLine(
      io.stdout,
      JSON.stringify(pipeline.redactor.redactValue({ valid: true, ...describePipeline(pipeline) })),
    );
    return ExitCode.ok;
  }
  const count = pipeline.rows.length;
  writeLine(
    io.stdout,
    `${pipeline.displayFile}: valid — pipeline "${pipeline.name}", ${count} row${count === 1 ? '' : 's'}`,
  );
  for (const id of pipeline.order) {
    const row = pipeline.rowsById.get(id) as LoadedRow;
    const parts = [
      `source ${connectorText(row.connectors.source)}`,
      `sink ${connectorText(row.connectors.sink)}`,
    ];
    if (row.transforms.length > 0) parts.push(`transforms ${row.transforms.map((t) => t.type).join(', ')}`);
    parts.push(
      row.connectors.state ? `state ${connectorText(row.connectors.state)}` : 'no state (not resumable)',
    );
    if (row.connectors.dlq) parts.push(`dlq ${connectorText(row.connectors.dlq)}`);
    const order: string[] = [];
    if (row.parent !== undefined) order.push(`once per record "${row.parent}" writes`);
    if (row.dependsOn.length > 0) order.push(`after ${row.dependsOn.join(', ')}`);
    writeLine(
      io.stdout,
      pipeline.redactor.redact(
        `  ${stateKeyOf(row)}  ${parts.join('; ')}${order.length > 0 ? ` (${order.join('; ')})` : ''}`,
      ),
    );
  }
  return ExitCode.ok;
}
