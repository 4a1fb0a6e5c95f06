/**
 * Checking what a pipeline file names: each connector's config against that connector's own schema
 * (leaving out values only known per parent record), and each transform's config.
 */
import {
  builtinTransform,
  builtinTransforms,
  ConfigError,
  configJsonSchema,
  type JsonObject,
  type SinkDescriptor,
  type SinkUse,
  type StateStoreDescriptor,
  type Transform,
} from '@faucet/core';
import type { AnyDescriptor, ConnectorKind, ResolvedConnector } from '../discovery/index.js';
import type { LocatedIssue } from '../errors.js';
import { joinPath, jsonSchemaKeysAt, type SchemaIssue, schemaIssues } from './issues.js';
import type { ConnectorSpec, RowPlan } from './plan.js';
import { findTemplates, mapTemplates } from './template.js';

export interface LoadedConnector {
  kind: ConnectorKind;
  spec: ConnectorSpec;
  resolved: ResolvedConnector;
  descriptor: AnyDescriptor;
  /** JSON Schema of the connector's config. */
  schema: JsonObject;
  /** True when the config holds `${parent.…}` templates (checked again per parent record). */
  templated: boolean;
  /** The checked config (defaults applied) when it holds no templates. */
  config?: unknown;
}

/** Check one connector config; returns the checked value (without templates) or problems. */
export async function checkConnectorConfig(
  loaded: Omit<LoadedConnector, 'config' | 'templated'>,
  issues: LocatedIssue[],
): Promise<LoadedConnector> {
  const { spec, descriptor, schema } = loaded;
  const templates = findTemplates(spec.config, `${spec.at}.config`);
  const templatePaths = new Set(templates.map((t) => t.path));
  const rendered = mapTemplates(spec.config, (t) => t.text);
  const result = await descriptor.configSchema['~standard'].validate(rendered);
  const at = `${spec.at}.config`;
  if (result.issues) {
    const found = schemaIssues(result.issues as readonly SchemaIssue[], at, (path) =>
      jsonSchemaKeysAt(schema, path.slice(at.length)),
    ).filter((issue) => !templatePaths.has(issue.path));
    issues.push(...found.map((i) => ({ ...i, message: `${i.message} (${loaded.kind} "${spec.type}")` })));
  }
  const out: LoadedConnector = { ...loaded, templated: templates.length > 0 };
  if (!result.issues && templates.length === 0) out.config = result.value;
  return out;
}

/**
 * Ask a row's sink and dead-letter sink whether they can be used with the row's state store
 * (`SinkDescriptor.checkUse`): e.g. the file sink refuses `mode: overwrite` with a durable store.
 * Problems are collected at `<sink>.config.<path>`. Templated configs are checked with the template
 * text in place of each `${parent.…}` value.
 */
export async function checkSinkUses(
  row: { sink: LoadedConnector; dlq?: LoadedConnector | undefined; state?: LoadedConnector | undefined },
  issues: LocatedIssue[],
): Promise<void> {
  const state = row.state?.descriptor as StateStoreDescriptor<unknown> | undefined;
  const durableState = state !== undefined && state.durable !== false;
  const uses: Array<[LoadedConnector | undefined, SinkUse['role']]> = [
    [row.sink, 'sink'],
    [row.dlq, 'dlq'],
  ];
  for (const [connector, role] of uses) {
    const descriptor = connector?.descriptor as SinkDescriptor<unknown> | undefined;
    if (!connector || !descriptor?.checkUse) continue;
    let config = connector.config;
    if (config === undefined) {
      const result = await descriptor.configSchema['~standard'].validate(
        mapTemplates(connector.spec.config, (t) => t.text),
      );
      if (result.issues) continue; // reported by checkConnectorConfig
      config = result.value;
    }
    const at = `${connector.spec.at}.config`;
    for (const issue of descriptor.checkUse(config, { role, durableState })) {
      issues.push({
        path: joinPath(at, issue.path),
        message: `${issue.message} (sink "${connector.spec.type}")`,
      });
    }
  }
}

/** Build a row's transforms; problems are collected. */
export function buildTransforms(row: RowPlan, issues: LocatedIssue[]): Promise<Transform[]> {
  return Promise.all(
    row.transforms.map(async (spec) => {
      const descriptor = builtinTransform(spec.type);
      if (!descriptor) {
        const available = Object.keys(builtinTransforms).sort();
        issues.push({
          path: `${spec.at}.type`,
          message: `unknown transform type ${JSON.stringify(spec.type)}; available: ${available.join(', ')}`,
        });
        return (record) => record;
      }
      const at = `${spec.at}.config`;
      const result = await descriptor.configSchema['~standard'].validate(spec.config);
      if (result.issues) {
        const schema = configJsonSchema(descriptor);
        issues.push(
          ...schemaIssues(result.issues as readonly SchemaIssue[], at, (path) =>
            jsonSchemaKeysAt(schema, path.slice(at.length)),
          ),
        );
        return (record) => record;
      }
      try {
        return descriptor.create(result.value as never);
      } catch (error) {
        if (error instanceof ConfigError) {
          issues.push(...error.issues.map((i) => ({ path: joinPath(at, i.path), message: i.message })));
          return (record) => record;
        }
        throw error;
      }
    }),
  );
}

/**
 * When the structure is wrong somewhere, still check the connector blocks of a file without a matrix
 * that are fine themselves, so one attempt reports as much as possible. (With a matrix, pipeline
 * blocks may be partial, completed by rows, so they are checked once the structure is right.)
 */
export async function checkBlocksDespiteStructure(
  value: unknown,
  structural: readonly LocatedIssue[],
  load: (kind: ConnectorKind, spec: ConnectorSpec) => Promise<unknown>,
  issues: LocatedIssue[],
): Promise<void> {
  const file = value as { pipeline?: unknown; matrix?: unknown };
  if (file.matrix !== undefined || typeof file.pipeline !== 'object' || file.pipeline === null) return;
  const pipeline = file.pipeline as { [key: string]: unknown };
  const clean = (at: string) =>
    !structural.some((i) => i.path === at || i.path.startsWith(`${at}.`) || i.path.startsWith(`${at}[`));
  const block = (raw: unknown, at: string): ConnectorSpec | undefined => {
    const b = raw as { type?: unknown; config?: unknown } | undefined;
    if (!b || typeof b.type !== 'string' || !clean(at)) return undefined;
    return { type: b.type, config: b.config ?? {}, at };
  };
  const checks: Array<Promise<unknown>> = [];
  for (const [key, kind] of [
    ['source', 'source'],
    ['sink', 'sink'],
    ['state', 'state'],
  ] as const) {
    const spec = block(pipeline[key], `pipeline.${key}`);
    if (spec) checks.push(load(kind, spec));
  }
  const dlq = pipeline.dlq as { sink?: unknown } | undefined;
  const dlqSpec = dlq && clean('pipeline.dlq') ? block(dlq.sink, 'pipeline.dlq.sink') : undefined;
  if (dlqSpec) checks.push(load('sink', dlqSpec));
  if (Array.isArray(pipeline.transforms) && clean('pipeline.transforms')) {
    const transforms = pipeline.transforms.map((t: { type?: unknown; config?: unknown }, i) => ({
      type: String(t?.type),
      config: t?.config ?? {},
      at: `pipeline.transforms[${i}]`,
    }));
    checks.push(buildTransforms({ transforms } as RowPlan, issues));
  }
  await Promise.all(checks);
}
