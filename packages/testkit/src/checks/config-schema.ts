/**
 * Rule config-schema: the descriptor's config schema emits a valid JSON Schema (draft 2020-12) for an
 * object, accepts the author's valid config (in both the validator and the JSON Schema, so editor
 * completion and run time agree), and rejects a wrong config with a ConfigError that lists the problem
 * as `path: message`.
 */
import { isDeepStrictEqual } from 'node:util';
import {
  type ConfigSchema,
  configJsonSchema,
  ErrorCodes,
  isFaucetError,
  type JsonObject,
  type PluginKind,
  validateConfig,
} from '@faucet/core';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { type ConnectorKind, describeError, violation } from '../conformance-error.js';

export interface ConfigExamples {
  /** A config the connector accepts. */
  valid: unknown;
  /** A config it must refuse, and the path (e.g. `url` or `auth.token`) its error must name. */
  invalid: { value: unknown; path: string };
}

export interface ConfigSchemaCheck extends ConfigExamples {
  name: string;
  descriptor: { id: string; kind: PluginKind; configSchema: ConfigSchema<unknown> };
}

const KIND_NAMES: Record<PluginKind, ConnectorKind> = {
  source: 'source',
  sink: 'sink',
  state: 'state store',
  transform: 'source',
};

export async function assertConfigSchema(check: ConfigSchemaCheck): Promise<void> {
  const fail = violation(KIND_NAMES[check.descriptor.kind], check.name, 'config-schema');
  let schema: JsonObject;
  try {
    schema = configJsonSchema(check.descriptor);
  } catch (error) {
    return fail(`the config schema cannot emit JSON Schema: ${describeError(error)}`, error);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    return fail(`the emitted JSON Schema is not an object: ${JSON.stringify(schema)}`);
  }
  let text: string;
  try {
    text = JSON.stringify(schema);
  } catch (error) {
    return fail(`the emitted JSON Schema is not JSON: ${describeError(error)}`, error);
  }
  if (!isDeepStrictEqual(JSON.parse(text), schema)) {
    return fail(
      'the emitted JSON Schema does not survive a JSON round trip (it holds undefined, functions or class ' +
        'instances)',
    );
  }
  if (schema.type !== 'object') {
    return fail(
      `a config is an object, so the JSON Schema must say "type": "object"; it says ` +
        `${JSON.stringify(schema.type)} (a schema that accepts anything checks nothing)`,
    );
  }
  const ajv = new Ajv2020({ strict: false, validateFormats: false, allErrors: true });
  if (!ajv.validateSchema(schema)) {
    return fail(`the emitted JSON Schema is not valid draft 2020-12: ${ajv.errorsText(ajv.errors)}`);
  }
  let validateJson: ReturnType<typeof ajv.compile>;
  try {
    validateJson = ajv.compile(schema);
  } catch (error) {
    return fail(`the emitted JSON Schema does not compile: ${describeError(error)}`, error);
  }

  try {
    await validateConfig(check.descriptor, check.valid);
  } catch (error) {
    return fail(`the valid example config was refused: ${describeError(error)}`, error);
  }
  if (!validateJson(check.valid)) {
    return fail(
      'the valid example config passes the validator but not the emitted JSON Schema, so editors would ' +
        `flag a config that runs: ${ajv.errorsText(validateJson.errors)}`,
    );
  }

  const { path } = check.invalid;
  let refused: unknown;
  try {
    await validateConfig(check.descriptor, check.invalid.value);
  } catch (error) {
    refused = error;
  }
  if (refused === undefined) {
    return fail(
      `a wrong config was accepted: ${JSON.stringify(check.invalid.value)} (expected a problem at "${path}")`,
    );
  }
  if (!isFaucetError(refused) || refused.code !== ErrorCodes.CONFIG_INVALID) {
    return fail(
      `a wrong config was refused with ${describeError(refused)}, not a ConfigError (CONFIG_INVALID)`,
      refused,
    );
  }
  const issues = (refused as { issues?: readonly { path: string; message: string }[] }).issues ?? [];
  const issue = issues.find((i) => i.path === path);
  if (!issue || !issue.message.trim()) {
    return fail(
      `a wrong config was refused, but no problem names the path "${path}" with a message; it said: ` +
        `${refused.message}`,
    );
  }
  // An empty path names the config itself (e.g. an unknown key at the top level): then only the message.
  const line = path === '' ? issue.message : `${path}: ${issue.message}`;
  if (!refused.message.includes(line)) {
    return fail(
      `the ConfigError message does not list the problem as "${path || '<root>'}: message": ` +
        `${refused.message}`,
    );
  }
}
