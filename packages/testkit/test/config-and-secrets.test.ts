/**
 * The config-schema and secrets checks pass on well-made descriptors and fail on broken ones.
 */
import { memoryStateStore } from '@faucet/core';
import {
  assertConfigSchema,
  assertSinkKeepsSecrets,
  assertSourceKeepsSecrets,
  assertStateStoreKeepsSecrets,
} from '@faucet/testkit';
import { describe, expect, it } from 'vitest';
import {
  acceptsAnythingDescriptor,
  erroringSecretDescriptor,
  invalidJsonSchemaDescriptor,
  leakySinkDescriptor,
  loggingSecretDescriptor,
  pathlessDescriptor,
  toySinkDescriptor,
  toySourceDescriptor,
  unmarkedSecretDescriptor,
} from './broken.js';
import { mustBreak } from './helpers.js';

const token = 'tok-5ecret-value';
const config = { url: 'http://127.0.0.1:1/api', token };
const examples = { valid: config, invalid: { value: { ...config, url: 'not a url' }, path: 'url' } };

describe('config-schema', () => {
  it('passes on a zod 4 schema', () =>
    assertConfigSchema({ name: 'toy', descriptor: toySourceDescriptor, ...examples }));
  it('passes on the core memory store (an unknown key is refused at the root)', () =>
    assertConfigSchema({
      name: 'memory',
      descriptor: memoryStateStore,
      valid: {},
      invalid: { value: { surprise: 1 }, path: '' },
    }));
  it.fails('fails on a schema that accepts anything', () =>
    mustBreak('config-schema', () =>
      assertConfigSchema({ name: 'anything', descriptor: acceptsAnythingDescriptor, ...examples }),
    ));
  it.fails('fails on a schema that emits invalid JSON Schema', () =>
    mustBreak('config-schema', () =>
      assertConfigSchema({ name: 'bad_json_schema', descriptor: invalidJsonSchemaDescriptor, ...examples }),
    ));
  it.fails('fails on a schema whose errors name no path', () =>
    mustBreak('config-schema', () =>
      assertConfigSchema({
        name: 'pathless',
        descriptor: pathlessDescriptor,
        valid: config,
        invalid: { value: { url: 42 }, path: 'url' },
      }),
    ));
  it.fails('fails when the example of a wrong config names the wrong path', () =>
    mustBreak('config-schema', () =>
      assertConfigSchema({
        name: 'toy',
        descriptor: toySourceDescriptor,
        ...examples,
        invalid: { ...examples.invalid, path: 'token' },
      }),
    ));
  it('says what is wrong', async () => {
    const error = await assertConfigSchema({
      name: 'anything',
      descriptor: acceptsAnythingDescriptor,
      ...examples,
    }).catch((e: Error) => e);
    expect(String(error)).toContain('source "anything" breaks rule config-schema');
    expect(String(error)).toContain('a wrong config was accepted');
  });
});

describe('secrets', () => {
  const probe = { config, secretValue: token };
  it('passes on a source that marks its token and never shows it', () =>
    assertSourceKeepsSecrets({ name: 'toy', descriptor: toySourceDescriptor, ...probe }));
  it.fails('fails on a source whose schema does not mark the token secret', () =>
    mustBreak('secrets', () =>
      assertSourceKeepsSecrets({ name: 'unmarked', descriptor: unmarkedSecretDescriptor, ...probe }),
    ));
  it.fails('fails on a source that logs its token', () =>
    mustBreak('secrets', () =>
      assertSourceKeepsSecrets({ name: 'chatty', descriptor: loggingSecretDescriptor, ...probe }),
    ));
  it.fails('fails on a source that puts its token in an error', () =>
    mustBreak('secrets', () =>
      assertSourceKeepsSecrets({ name: 'blurty', descriptor: erroringSecretDescriptor, ...probe }),
    ));
  it('reports where the secret leaked without repeating it', async () => {
    const error = await assertSourceKeepsSecrets({
      name: 'chatty',
      descriptor: loggingSecretDescriptor,
      ...probe,
    }).catch((e: Error) => e);
    expect(String(error)).toContain('the secret config value appears in log line 1 (info)');
    expect(String(error)).not.toContain(token);
  });

  const sinkProbe = { config: { token }, secretValue: token, badRecord: { id: 0, bad: true } };
  it('passes on a sink whose row errors keep the token out', () =>
    assertSinkKeepsSecrets({ name: 'toy_sink', descriptor: toySinkDescriptor, ...sinkProbe }));
  it.fails('fails on a sink whose row errors (and so DLQ envelopes) carry the token', () =>
    mustBreak('secrets', () =>
      assertSinkKeepsSecrets({ name: 'leaky_sink', descriptor: leakySinkDescriptor, ...sinkProbe }),
    ));
  it('finds the token in the DLQ envelopes of that sink', async () => {
    const error = await assertSinkKeepsSecrets({
      name: 'leaky_sink',
      descriptor: leakySinkDescriptor,
      ...sinkProbe,
    }).catch((e: Error) => e);
    expect(String(error)).toContain('DLQ envelope 1');
  });

  it.fails('fails on a state store config with no secret field marked', () =>
    mustBreak('secrets', () =>
      assertStateStoreKeepsSecrets({
        name: 'memory',
        descriptor: memoryStateStore,
        config: {},
        secretValue: 'not-in-config',
      }),
    ));
});
