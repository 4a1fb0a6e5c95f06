/** Small helpers shared by the checks: building a plugin from its descriptor, capturing logs, time limits. */
import {
  type CreateEnv,
  configJsonSchema,
  type JsonObject,
  type Logger,
  type LogLevel,
  Redactor,
  type Sink,
  type SinkDescriptor,
  type Source,
  type SourceDescriptor,
  type StateStore,
  type StateStoreDescriptor,
  silentLogger,
  validateConfig,
} from '@faucet/core';

export interface LogLine {
  level: LogLevel;
  msg: string;
  fields: JsonObject | undefined;
}

/** A logger that keeps every line (all levels), for checks that inspect what was logged. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at =
    (level: LogLevel) =>
    (msg: string, fields?: JsonObject): void => {
      lines.push({ level, msg, fields });
    };
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/**
 * Validate `config` against the descriptor's schema and create the plugin the way the CLI does: with a
 * redactor that knows the config's secrets. Throws the ConfigError of an invalid config.
 */
export async function instantiate(
  descriptor: SourceDescriptor<unknown>,
  config: unknown,
  env?: Partial<CreateEnv>,
): Promise<Source>;
export async function instantiate(
  descriptor: SinkDescriptor<unknown>,
  config: unknown,
  env?: Partial<CreateEnv>,
): Promise<Sink>;
export async function instantiate(
  descriptor: StateStoreDescriptor<unknown>,
  config: unknown,
  env?: Partial<CreateEnv>,
): Promise<StateStore>;
export async function instantiate(
  descriptor: SourceDescriptor<unknown> | SinkDescriptor<unknown> | StateStoreDescriptor<unknown>,
  config: unknown,
  env: Partial<CreateEnv> = {},
): Promise<Source | Sink | StateStore> {
  const validated = await validateConfig(descriptor, config);
  const redactor = env.redactor ?? Redactor.forConfig(validated, configJsonSchema(descriptor));
  return descriptor.create(validated, { logger: env.logger ?? silentLogger, redactor });
}

export class TimeLimitExceeded extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not settle within ${ms} ms`);
    this.name = 'TimeLimitExceeded';
  }
}

/** Resolve or reject like `promise`, or reject with TimeLimitExceeded after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeLimitExceeded(what, ms)), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Settle a promise into a value or an error, never throwing. */
export async function settle<T>(
  promise: Promise<T> | T,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

export const writeContext = (signal: AbortSignal = new AbortController().signal) => ({
  signal,
  logger: silentLogger,
});
