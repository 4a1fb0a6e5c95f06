import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ConfigError,
  configJsonSchema,
  defineSink,
  defineSource,
  FaucetError,
  isFaucetError,
  isRetryable,
  isSinkDescriptor,
  isSourceDescriptor,
  PLUGIN_BRAND,
  pluginKind,
  Redactor,
  redactConfig,
  SourceError,
  secret,
  secretPaths,
  validateConfig,
} from '../src/index.js';

const configSchema = z
  .object({
    base_url: z.string().url(),
    auth: z.object({ type: z.literal('bearer'), token: secret(z.string()) }).strict(),
    headers: z.record(z.string(), secret(z.string())).optional(),
    page_size: z.number().int().positive().default(100),
  })
  .strict();

const rest = defineSource({
  id: 'rest',
  version: '1.2.3',
  configSchema,
  create: (config) => ({
    async *read() {
      yield { records: [{ url: config.base_url }] };
    },
  }),
});

describe('plug-in descriptors', () => {
  it('are frozen plain objects recognised by a shared brand, not instanceof', () => {
    expect(Object.isFrozen(rest)).toBe(true);
    expect(rest.kind).toBe('source');
    expect(isSourceDescriptor(rest)).toBe(true);
    expect(isSinkDescriptor(rest)).toBe(false);
    // A descriptor made by another copy of @faucet/core carries the same Symbol.for brand.
    const foreign = { id: 'x', [Symbol.for('faucet.plugin')]: 'sink' };
    expect(pluginKind(foreign)).toBe('sink');
    expect(PLUGIN_BRAND).toBe(Symbol.for('faucet.plugin'));
    expect(pluginKind({ id: 'x' })).toBeUndefined();
  });

  it('reject an id that is not a short name', () => {
    expect(() => defineSink({ id: 'has space', configSchema, create: () => ({ async write() {} }) })).toThrow(
      ConfigError,
    );
  });

  it('validate config with every problem as path: message', async () => {
    const error = await validateConfig(
      rest,
      { base_url: 'nope', auth: { type: 'bearer' }, extra: 1 },
      {
        at: 'pipeline.source.config',
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues.map((i) => i.path);
    expect(issues).toEqual(
      expect.arrayContaining([
        'pipeline.source.config.base_url',
        'pipeline.source.config.auth.token',
        'pipeline.source.config',
      ]),
    );
    expect((error as Error).message).toMatch(
      /^invalid config for source "rest":\n {2}pipeline\.source\.config\./,
    );
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
  });

  it('apply defaults on a valid config', async () => {
    const config = await validateConfig(rest, {
      base_url: 'https://api.example.com',
      auth: { type: 'bearer', token: 't0k' },
    });
    expect(config.page_size).toBe(100);
  });

  it('emit JSON Schema with secret fields marked', () => {
    const schema = configJsonSchema(rest);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.type).toBe('object');
    expect(secretPaths(schema).sort()).toEqual(['auth.token', 'headers.*']);
  });
});

describe('secret redaction', () => {
  const config = {
    base_url: 'https://svc:url-pass-99@api.example.com/v1',
    auth: { type: 'bearer', token: 'tok_live_abc' },
    headers: { 'x-api-key': 'key-123456' },
  };

  it('collects schema-marked values and URL passwords and scrubs them from text', () => {
    const redactor = Redactor.forConfig(config, configJsonSchema(rest));
    const text = 'GET https://svc:url-pass-99@api.example.com with tok_live_abc and key-123456 (url-pass-99)';
    expect(redactor.redact(text)).toBe('GET https://svc:***@api.example.com with *** and *** (***)');
  });

  it('masks a config for display', () => {
    const masked = redactConfig(config, configJsonSchema(rest));
    expect(masked).toEqual({
      base_url: 'https://svc:***@api.example.com/v1',
      auth: { type: 'bearer', token: '***' },
      headers: { 'x-api-key': '***' },
    });
    expect(config.auth.token).toBe('tok_live_abc');
  });

  it('scrubs errors in place, causes included', () => {
    const cause = new Error('password=hunter22 rejected');
    const error = new SourceError('login failed for hunter22', { cause });
    new Redactor(['hunter22']).redactError(error);
    expect(error.message).toBe('login failed for ***');
    expect(cause.message).toBe('password=*** rejected');
    expect(error.stack).not.toContain('hunter22');
  });

  it('scrubs percent-encoded forms and tells whether an error chain mentions a secret', () => {
    const redactor = new Redactor(['p@ss/word']);
    expect(redactor.redact('url has p%40ss%2Fword, text has p@ss/word')).toBe('url has ***, text has ***');
    const cause = new Error('auth with p%40ss%2Fword refused');
    expect(redactor.mentions(new Error('outer', { cause }))).toBe(true);
    expect(redactor.mentions(new Error('nothing here'))).toBe(false);
    expect(new Redactor(['ab'], { minLength: 1 }).redact('x ab y')).toBe('x *** y');
  });

  it('replaces the longest secret first and ignores very short ones', () => {
    const redactor = new Redactor(['ab', 'secret', 'secret-long']);
    expect(redactor.redact('ab secret-long secret')).toBe('ab *** ***');
    expect(redactor.redactValue({ a: ['secret', 1, { b: 'x secret' }] })).toEqual({
      a: ['***', 1, { b: 'x ***' }],
    });
  });
});

describe('errors', () => {
  it('carry a stable code, retryable flag, connector and cause', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new SourceError('boom', { connector: 'rest', retryable: true, cause });
    expect(error).toBeInstanceOf(FaucetError);
    expect(isFaucetError(error)).toBe(true);
    expect(error.toJSON()).toEqual({
      name: 'SourceError',
      code: 'SOURCE_FAILED',
      message: 'boom',
      retryable: true,
      connector: 'rest',
    });
    expect(error.cause).toBe(cause);
    expect(isFaucetError(new Error('x'))).toBe(false);
  });

  it('classify transport errors as retryable', () => {
    expect(isRetryable(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryable(new Error('bad request'))).toBe(false);
    expect(isRetryable(new SourceError('x', { retryable: true }))).toBe(true);
  });

  it('format one config issue on one line and many on several', () => {
    expect(new ConfigError([{ path: 'a.b', message: 'bad' }]).message).toBe(
      'invalid configuration: a.b: bad',
    );
    expect(new ConfigError('just wrong').message).toBe('invalid configuration: just wrong');
    expect(
      new ConfigError([
        { path: 'a', message: 'x' },
        { path: 'b', message: 'y' },
      ]).message,
    ).toBe('invalid configuration:\n  a: x\n  b: y');
  });
});
