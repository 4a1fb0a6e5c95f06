/**
 * One JSON Schema (draft 2020-12) for pipeline files, covering the connectors installed: each
 * `source`/`sink`/`state` block is a `oneOf` over the known types, each with its config schema, plus
 * a branch for any other type (a package name or path faucet cannot see from here). Editors use it
 * for completion and checking through a `# yaml-language-server: $schema=…` comment.
 */
import type { JsonObject, JsonValue } from '@faucet/core';
import type { ConnectorKind } from './discovery/index.js';

export interface SchemaPlugin {
  kind: ConnectorKind | 'transform';
  id: string;
  description?: string;
  /** The plugin's config JSON Schema. */
  schema: JsonObject;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A config schema ready to embed: `$schema` dropped, its `$defs` moved to the root under a prefix,
 * and its local `$ref`s rewritten to match.
 */
function embed(schema: JsonObject, prefix: string, defs: JsonObject): JsonObject {
  const rewrite = (node: JsonValue): JsonValue => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isObject(node)) return node;
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === '$schema' || key === '$defs' || key === 'definitions') continue;
      if (key === '$ref' && typeof value === 'string') {
        const match = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(value);
        out.$ref = match ? `#/$defs/${prefix}${match[1]}` : value === '#' ? `#/$defs/${prefix}root` : value;
        continue;
      }
      out[key] = rewrite(value);
    }
    return out;
  };
  for (const key of ['$defs', 'definitions']) {
    const local = schema[key];
    if (isObject(local))
      for (const [name, def] of Object.entries(local)) defs[`${prefix}${name}`] = rewrite(def);
  }
  const embedded = rewrite(schema) as JsonObject;
  if (JSON.stringify(schema).includes('"$ref":"#"')) defs[`${prefix}root`] = embedded;
  return embedded;
}

function hasRequired(schema: JsonObject): boolean {
  return Array.isArray(schema.required) && schema.required.length > 0;
}

function connectorUnion(
  kind: string,
  plugins: readonly SchemaPlugin[],
  defs: JsonObject,
  open = true,
): JsonObject {
  const known = plugins.map((p) => p.id);
  const branches: JsonValue[] = plugins.map((plugin) => {
    const config = embed(plugin.schema, `${kind}-${plugin.id}-`, defs);
    const branch: JsonObject = {
      type: 'object',
      title: `${kind} ${plugin.id}`,
      properties: { type: { const: plugin.id }, config },
      required: hasRequired(plugin.schema) ? ['type', 'config'] : ['type'],
      additionalProperties: false,
    };
    if (plugin.description) branch.description = plugin.description;
    return branch;
  });
  if (!open) return { oneOf: branches };
  branches.push({
    type: 'object',
    title: `another ${kind} (a package name or path)`,
    properties: {
      type: {
        type: 'string',
        minLength: 1,
        ...(known.length > 0 ? { not: { enum: known } } : {}),
      },
      config: { type: ['object', 'null'] },
    },
    required: ['type'],
    additionalProperties: false,
  });
  return { oneOf: branches };
}

function partialConnector(plugins: readonly SchemaPlugin[]): JsonObject {
  return {
    type: 'object',
    description: 'Deep-merged onto the pipeline block; a different type replaces its config',
    properties: {
      type: { anyOf: [{ enum: plugins.map((p) => p.id) }, { type: 'string', minLength: 1 }] },
      config: { type: ['object', 'null'] },
    },
    additionalProperties: false,
  };
}

const ROW_ID = { type: 'string', pattern: '^[A-Za-z0-9_][A-Za-z0-9_.-]*$' };

export function buildPipelineJsonSchema(plugins: readonly SchemaPlugin[]): JsonObject {
  const defs: JsonObject = {};
  const of = (kind: SchemaPlugin['kind']) =>
    plugins.filter((p) => p.kind === kind).sort((a, b) => a.id.localeCompare(b.id));
  defs.source = connectorUnion('source', of('source'), defs);
  defs.sink = connectorUnion('sink', of('sink'), defs);
  defs.state = connectorUnion('state', of('state'), defs);
  defs.transform = connectorUnion('transform', of('transform'), defs, false);
  defs.transforms = { type: 'array', items: { $ref: '#/$defs/transform' } };
  const dlqFields: JsonObject = {
    on_batch_error: { enum: ['propagate', 'dlq_all'], default: 'propagate' },
    max_failures_per_page: { type: 'integer', minimum: 0 },
    max_failures_total: { type: 'integer', minimum: 0 },
  };
  defs.dlq = {
    type: ['object', 'null'],
    properties: { sink: { $ref: '#/$defs/sink' }, ...dlqFields },
    required: ['sink'],
    additionalProperties: false,
  };
  const common: JsonObject = {
    batch_size: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 1000 },
    delivery: { enum: ['at_least_once', 'effectively_once'], default: 'at_least_once' },
    on_record_error: {
      description:
        'A record the source cannot decode or a transform cannot convert: fail the run (default), or dead-letter it and go on (needs a dlq)',
      enum: ['fail', 'dlq'],
      default: 'fail',
    },
    checkpoint_every: {
      description:
        'Store a checkpoint at most this often (500ms, 30s, 5m, or seconds); default: every checkpoint page',
      anyOf: [
        { type: 'string', pattern: '^\\d+(\\.\\d+)?(ms|s|m|h)$' },
        { type: 'number', minimum: 0 },
      ],
    },
  };
  defs.pipeline = {
    type: 'object',
    properties: {
      source: { $ref: '#/$defs/source' },
      transforms: { $ref: '#/$defs/transforms' },
      sink: { $ref: '#/$defs/sink' },
      state: { $ref: '#/$defs/state' },
      dlq: { $ref: '#/$defs/dlq' },
      ...common,
    },
    additionalProperties: false,
  };
  defs.row = {
    type: 'object',
    properties: {
      id: ROW_ID,
      parent: { type: 'string', description: 'Run once per record this row writes' },
      parent_key: {
        type: 'string',
        default: 'id',
        description: "The parent's field that names each state key",
      },
      depends_on: { type: 'array', items: { type: 'string' }, uniqueItems: true },
      source: partialConnector(of('source')),
      transforms: { $ref: '#/$defs/transforms' },
      sink: partialConnector(of('sink')),
      state: partialConnector(of('state')),
      dlq: {
        type: ['object', 'null'],
        properties: { sink: partialConnector(of('sink')), ...dlqFields },
        additionalProperties: false,
      },
      ...common,
    },
    additionalProperties: false,
  };
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://faucet.dev/schemas/pipeline.json',
    title: 'faucet pipeline file',
    type: 'object',
    properties: {
      version: { const: 1 },
      name: { ...ROW_ID, description: 'Pipeline name used in state keys; default: the file name' },
      pipeline: { $ref: '#/$defs/pipeline' },
      matrix: { type: 'array', minItems: 1, items: { $ref: '#/$defs/row' } },
      execution: {
        type: 'object',
        properties: {
          max_concurrent: { type: 'integer', minimum: 1, maximum: 1024 },
          on_error: { enum: ['continue', 'stop'], default: 'continue' },
          retries: {
            type: 'integer',
            minimum: 0,
            maximum: 100,
            default: 0,
            description:
              'Runs on a queue (faucet run --queue): how many more times a failed invocation is tried',
          },
        },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
    $defs: defs,
  };
}
