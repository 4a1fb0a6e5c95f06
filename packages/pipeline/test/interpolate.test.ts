// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are about ${…} interpolation syntax
import { join } from 'node:path';
import { cleanupTempDirs, tempDir, write } from '@faucet/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDotEnv } from '../src/config/dotenv.js';
import { dotEnvLookup } from '../src/config/env.js';
import { interpolate, MAX_FILE_INTERPOLATION_BYTES } from '../src/config/interpolate.js';
import { isParentTemplate, type ParentTemplate } from '../src/config/template.js';

afterAll(cleanupTempDirs);

const env = (vars: Record<string, string>) => (name: string) => vars[name];

describe('interpolate', () => {
  it('replaces ${env:NAME} anywhere in a string and records the substitution', () => {
    const out = interpolate(
      { pipeline: { sink: { config: { url: 'postgres://app:${env:PW}@db/${env:DB}', n: 3 } } } },
      { env: env({ PW: 's3cret', DB: 'main' }), baseDir: '/' },
    );
    expect(out.issues).toEqual([]);
    expect(out.value).toEqual({
      pipeline: { sink: { config: { url: 'postgres://app:s3cret@db/main', n: 3 } } },
    });
    expect(out.substitutions).toEqual([
      { path: 'pipeline.sink.config.url', kind: 'env', name: 'PW', value: 's3cret' },
      { path: 'pipeline.sink.config.url', kind: 'env', name: 'DB', value: 'main' },
    ]);
  });

  it('names a missing variable and where it is used, and keeps collecting', () => {
    const out = interpolate(
      { a: '${env:NOPE_ONE}', b: ['x', '${env:NOPE_TWO}'] },
      { env: env({}), baseDir: '/' },
    );
    expect(out.issues).toEqual([
      { path: 'a', message: expect.stringContaining('environment variable NOPE_ONE is not set') },
      { path: 'b[1]', message: expect.stringContaining('environment variable NOPE_TWO is not set') },
    ]);
  });

  it('reads ${file:path} relative to the base directory, without one trailing newline', () => {
    const dir = tempDir();
    write(join(dir, 'secrets', 'token'), 'tok-123\n');
    const out = interpolate({ token: 'Bearer ${file:secrets/token}' }, { env: env({}), baseDir: dir });
    expect(out.value).toEqual({ token: 'Bearer tok-123' });
    expect(out.substitutions[0]).toMatchObject({ kind: 'file', name: 'secrets/token', value: 'tok-123' });
  });

  it('refuses files over 1 MiB and missing files', () => {
    const dir = tempDir();
    write(join(dir, 'big'), 'x'.repeat(MAX_FILE_INTERPOLATION_BYTES + 1));
    const out = interpolate({ a: '${file:big}', b: '${file:missing.txt}' }, { env: env({}), baseDir: dir });
    expect(out.issues.map((i) => i.path)).toEqual(['a', 'b']);
    expect(out.issues[0]?.message).toContain('at most 1048576 bytes');
    expect(out.issues[1]?.message).toContain('does not exist');
  });

  it('turns $${ into a literal ${ and leaves lone $ alone', () => {
    const out = interpolate(
      { a: 'cost: $5, tmpl: $${env:X} and $${parent.id}' },
      { env: env({ X: 'no' }), baseDir: '/' },
    );
    expect(out.value).toEqual({ a: 'cost: $5, tmpl: ${env:X} and ${parent.id}' });
    expect(out.substitutions).toEqual([]);
  });

  it('keeps ${parent.path} as a template and fills it per record', () => {
    const out = interpolate(
      { path: '/users/${parent.id}/posts?org=${parent.org.name}&x=${env:X}', whole: '${parent.n}' },
      { env: env({ X: '1' }), baseDir: '/' },
    );
    const value = out.value as { path: ParentTemplate; whole: ParentTemplate };
    expect(isParentTemplate(value.path)).toBe(true);
    expect(value.path.paths).toEqual(['id', 'org.name']);
    expect(value.path.render({ id: 42, org: { name: 'acme' } })).toEqual({
      value: '/users/42/posts?org=acme&x=1',
    });
    // A string that is only one token keeps the JSON type.
    expect(value.whole.render({ n: 7 })).toEqual({ value: 7 });
    expect(value.path.render({ id: 1 })).toEqual({ missing: 'org.name' });
  });

  it('reports unknown and unclosed interpolations', () => {
    const out = interpolate({ a: '${vars.x}', b: 'abc ${env:X' }, { env: env({}), baseDir: '/' });
    expect(out.issues[0]?.message).toContain('unknown interpolation "${vars.x}"');
    expect(out.issues[1]?.message).toContain('unclosed "${"');
  });
});

describe('.env', () => {
  it('parses NAME=value lines, quotes, export and comments', () => {
    const { values, issues } = parseDotEnv(
      [
        '# comment',
        'A=plain value # trailing comment',
        'export B="two\\nlines"',
        "C='single $quoted # not a comment'",
        'D=',
        'E="multi',
        'line"',
        'not a line',
      ].join('\n'),
    );
    expect(Object.fromEntries(values)).toEqual({
      A: 'plain value',
      B: 'two\nlines',
      C: 'single $quoted # not a comment',
      D: '',
      E: 'multi\nline',
    });
    expect(issues).toEqual([{ path: '', line: 8, message: 'expected NAME=value' }]);
  });

  it('is read beside the config; the process environment wins', () => {
    const dir = tempDir();
    write(join(dir, '.env'), 'ONLY_IN_FILE=file\nBOTH=file\n');
    const lookup = dotEnvLookup(dir, { BOTH: 'process' });
    expect(lookup.get('ONLY_IN_FILE')).toBe('file');
    expect(lookup.get('BOTH')).toBe('process');
    expect(lookup.get('NEITHER')).toBeUndefined();
    expect(lookup.file).toBe(join(dir, '.env'));
  });
});
