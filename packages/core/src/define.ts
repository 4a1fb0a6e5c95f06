/**
 * Plugin descriptors. A connector package default-exports a plain object made by defineSource /
 * defineSink / defineStateStore / defineTransform. Descriptors are recognised structurally by a
 * brand symbol (shared across copies of @faucet/core through Symbol.for), never by instanceof.
 */
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { ConfigError, type ConfigIssue } from './errors.js';
import type { Redactor } from './redact.js';
import type { JsonObject, Logger, Sink, Source, StateStore, Transform } from './types.js';

export const PLUGIN_BRAND: unique symbol = Symbol.for('faucet.plugin') as never;

export type PluginKind = 'source' | 'sink' | 'state' | 'transform';

/** A Standard Schema validator that can also emit JSON Schema (zod 4 schemas are both). */
export type ConfigSchema<Config> = StandardSchemaV1<unknown, Config> & StandardJSONSchemaV1<unknown, Config>;

/** What `create` receives besides its validated config. */
export interface CreateEnv {
  logger: Logger;
  /** Scrubs this plugin's secrets from text; connectors use it for their own messages. */
  redactor: Redactor;
}

interface DescriptorBase<K extends PluginKind, Config> {
  readonly [PLUGIN_BRAND]: K;
  readonly kind: K;
  /** Short id used in pipeline files: `type: rest`. */
  readonly id: string;
  readonly version?: string;
  /** The npm package that holds it, when read by connectorPackage(). */
  readonly packageName?: string;
  readonly description?: string;
  readonly configSchema: ConfigSchema<Config>;
}

export interface SourceDescriptor<Config = unknown> extends DescriptorBase<'source', Config> {
  create(config: Config, env: CreateEnv): Source | Promise<Source>;
}
export interface SinkDescriptor<Config = unknown> extends DescriptorBase<'sink', Config> {
  create(config: Config, env: CreateEnv): Sink | Promise<Sink>;
}
export interface StateStoreDescriptor<Config = unknown> extends DescriptorBase<'state', Config> {
  create(config: Config, env: CreateEnv): StateStore | Promise<StateStore>;
}
export interface TransformDescriptor<Config = unknown> extends DescriptorBase<'transform', Config> {
  /** Build the per-record function once; bad config throws ConfigError here, not per record. */
  create(config: Config): Transform;
}

export type PluginDescriptor =
  | SourceDescriptor<never>
  | SinkDescriptor<never>
  | StateStoreDescriptor<never>
  | TransformDescriptor<never>;

/** `kind` may be given (connectorPackage() spreads it from package.json); it must then match. */
type Definition<D> = Omit<D, typeof PLUGIN_BRAND | 'kind'> & { readonly kind?: PluginKind };

function brand<K extends PluginKind, D extends object>(kind: K, definition: D) {
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test((definition as { id?: string }).id ?? '')) {
    throw new ConfigError(
      `plugin id must be a short name like "rest" or "my_sink", got ${JSON.stringify((definition as { id?: unknown }).id)}`,
    );
  }
  const declared = (definition as { kind?: unknown }).kind;
  if (declared !== undefined && declared !== kind) {
    throw new ConfigError(
      `plugin "${(definition as { id: string }).id}" is declared as a ${String(declared)} in its package.json but defined as a ${kind}`,
    );
  }
  return Object.freeze({ ...definition, kind, [PLUGIN_BRAND]: kind });
}

export function defineSource<Config>(
  definition: Definition<SourceDescriptor<Config>>,
): SourceDescriptor<Config> {
  return brand('source', definition) as SourceDescriptor<Config>;
}
export function defineSink<Config>(definition: Definition<SinkDescriptor<Config>>): SinkDescriptor<Config> {
  return brand('sink', definition) as SinkDescriptor<Config>;
}
export function defineStateStore<Config>(
  definition: Definition<StateStoreDescriptor<Config>>,
): StateStoreDescriptor<Config> {
  return brand('state', definition) as StateStoreDescriptor<Config>;
}
export function defineTransform<Config>(
  definition: Definition<TransformDescriptor<Config>>,
): TransformDescriptor<Config> {
  return brand('transform', definition) as TransformDescriptor<Config>;
}

export function pluginKind(value: unknown): PluginKind | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const kind = (value as { [PLUGIN_BRAND]?: unknown })[PLUGIN_BRAND];
  return kind === 'source' || kind === 'sink' || kind === 'state' || kind === 'transform' ? kind : undefined;
}
export const isSourceDescriptor = (v: unknown): v is SourceDescriptor<unknown> => pluginKind(v) === 'source';
export const isSinkDescriptor = (v: unknown): v is SinkDescriptor<unknown> => pluginKind(v) === 'sink';
export const isStateStoreDescriptor = (v: unknown): v is StateStoreDescriptor<unknown> =>
  pluginKind(v) === 'state';
export const isTransformDescriptor = (v: unknown): v is TransformDescriptor<unknown> =>
  pluginKind(v) === 'transform';

/** `a.b[2].c` from a Standard Schema issue path. */
export function formatIssuePath(path: StandardSchemaV1.Issue['path']): string {
  let out = '';
  for (const segment of path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

function joinPath(prefix: string, path: string): string {
  if (!prefix) return path;
  if (!path) return prefix;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

/**
 * Validate a config against a Standard Schema. Throws one ConfigError listing every problem as
 * `path: message`, with paths prefixed by `at` (e.g. `pipeline.source.config`).
 */
export async function validateWith<Config>(
  schema: StandardSchemaV1<unknown, Config>,
  input: unknown,
  options: { at?: string; context?: string } = {},
): Promise<Config> {
  const result = await schema['~standard'].validate(input);
  if (result.issues) {
    const issues: ConfigIssue[] = result.issues.map((issue) => ({
      path: joinPath(options.at ?? '', formatIssuePath(issue.path)),
      message: issue.message,
    }));
    throw new ConfigError(issues, options.context === undefined ? {} : { context: options.context });
  }
  return result.value;
}

/** Validate a plugin's config, naming the plugin in the error. */
export function validateConfig<Config>(
  descriptor: { id: string; kind: PluginKind; configSchema: ConfigSchema<Config> },
  input: unknown,
  options: { at?: string } = {},
): Promise<Config> {
  return validateWith(descriptor.configSchema, input, {
    ...options,
    context: `invalid config for ${descriptor.kind} "${descriptor.id}"`,
  });
}

/** The JSON Schema (draft 2020-12) of a plugin's config, as a user writes it. */
export function configJsonSchema(descriptor: { configSchema: ConfigSchema<unknown> }): JsonObject {
  return descriptor.configSchema['~standard'].jsonSchema.input({ target: 'draft-2020-12' }) as JsonObject;
}
