/**
 * Fixture connector packages for tests that go through discovery: throwaway temp directories,
 * packages written into a `node_modules` at test time (node_modules is git-ignored), and the fake
 * source and sink the CLI and @faucet/pipeline tests run (`fakePluginDir()` for FAUCET_PLUGIN_PATH).
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const dirs: string[] = [];

export function tempDir(prefix = 'faucet-cli-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  dirs.push(dir);
  return dir;
}

export function cleanupTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function write(file: string, text: string): string {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

export interface FixturePackage {
  name: string;
  version?: string;
  faucet?: unknown;
  /** ESM source of the entry module (index.js). */
  code?: string;
  /** Leave "./package.json" out of the exports map (like many ESM packages). */
  strictExports?: boolean;
}

/** Write a package into `<nodeModules>/<name>`. */
export function writePackage(nodeModules: string, pkg: FixturePackage): string {
  const dir = join(nodeModules, pkg.name);
  const json: Record<string, unknown> = {
    name: pkg.name,
    version: pkg.version ?? '1.0.0',
    type: 'module',
    exports: pkg.strictExports
      ? { '.': './index.js' }
      : { '.': './index.js', './package.json': './package.json' },
  };
  if (pkg.faucet !== undefined) json.faucet = pkg.faucet;
  write(join(dir, 'package.json'), JSON.stringify(json, null, 2));
  write(join(dir, 'index.js'), pkg.code ?? 'export default {};\n');
  return dir;
}

const require = createRequire(import.meta.url);

/** Symlink @faucet/core and zod into a fixture node_modules so fixture connectors can import them. */
export function linkRuntime(nodeModules: string): void {
  const core = dirname(require.resolve('@faucet/core/package.json'));
  const zod = dirname(require.resolve('zod/package.json'));
  mkdirSync(join(nodeModules, '@faucet'), { recursive: true });
  if (!existsSync(join(nodeModules, '@faucet', 'core')))
    symlinkSync(realpathSync(core), join(nodeModules, '@faucet', 'core'));
  if (!existsSync(join(nodeModules, 'zod'))) symlinkSync(realpathSync(zod), join(nodeModules, 'zod'));
}

/**
 * A source that counts: records `{id: "<prefix><n>", n, parent}` in pages of the batch size, each
 * page a checkpoint `{offset}`. Or the given `records`. Can fail after some records or sleep per page.
 */
export const FAKE_SOURCE = `
import { defineSource, secret, SourceError } from '@faucet/core';
import { z } from 'zod';
export const configSchema = z.strictObject({
  count: z.number().int().min(0).default(10),
  prefix: z.string().default(''),
  records: z.array(z.record(z.string(), z.unknown())).optional(),
  fail_after: z.number().int().min(0).optional(),
  fail_message: z.string().optional(),
  delay_ms: z.number().int().min(0).default(0),
  connection_url: secret(z.string()).optional(),
  token: secret(z.string()).optional(),
  label: z.string().optional(),
  fail_if_label: z.string().optional(),
  full_table: z.boolean().default(false),
});
export default defineSource({
  id: 'fake',
  version: '1.2.3',
  description: 'counts records (tests)',
  configSchema,
  create(config) {
    return {
      rereadsAll: config.full_table,
      async *read(ctx) {
        if (config.fail_if_label !== undefined && config.fail_if_label === config.label) {
          throw new SourceError('the fake source was told to fail for ' + config.label, { connector: 'fake' });
        }
        let offset = ctx.bookmark?.offset ?? 0;
        const total = config.records ? config.records.length : config.count;
        while (offset < total) {
          if (config.delay_ms) await new Promise((r) => setTimeout(r, config.delay_ms));
          const n = Math.min(ctx.batchSize, total - offset);
          if (config.fail_after !== undefined && offset + n > config.fail_after) {
            throw new SourceError(config.fail_message ?? 'the fake source failed', { connector: 'fake' });
          }
          const records = [];
          for (let i = 0; i < n; i++) {
            const at = offset + i;
            records.push(config.records ? config.records[at] : {
              id: config.prefix + (at + 1), n: at + 1, parent: ctx.parent ?? null, label: config.label ?? null,
            });
          }
          offset += n;
          yield { records, bookmark: { offset } };
        }
      },
    };
  },
});
`;

/**
 * A sink appending JSON lines to \`path\`. Rows whose \`reject_field\` (default \`reject\`) is true are
 * reported failed;
 * \`fail: true\` makes every write throw an error that quotes connection_url (a secret).
 */
export const FAKE_SINK = `
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { defineSink, secret } from '@faucet/core';
import { z } from 'zod';
export const configSchema = z.strictObject({
  path: z.string().min(1),
  connection_url: secret(z.string()).optional(),
  fail: z.boolean().default(false),
  reject_field: z.string().default('reject'),
});
export default defineSink({
  id: 'fake',
  version: '2.0.0',
  configSchema,
  create(config) {
    mkdirSync(dirname(config.path), { recursive: true });
    return {
      appends: true,
      async write(records) {
        if (config.fail) throw new Error('cannot reach ' + config.connection_url + ' (connection refused)');
        const failed = [];
        const lines = [];
        records.forEach((r, index) => {
          if (r[config.reject_field] === true) {
            failed.push({ index, error: new Error('rejected row ' + r.id + ' by ' + config.connection_url) });
          }
          else lines.push(JSON.stringify(r));
        });
        if (lines.length) appendFileSync(config.path, lines.join('\\n') + '\\n');
        return { failed };
      },
    };
  },
});
`;

/** A plugin directory (for FAUCET_PLUGIN_PATH) holding faucet-source-fake and faucet-sink-fake. */
export function fakePluginDir(): string {
  const dir = tempDir('faucet-plugins-');
  const nodeModules = join(dir, 'node_modules');
  linkRuntime(nodeModules);
  writePackage(nodeModules, {
    name: 'faucet-source-fake',
    version: '1.2.3',
    faucet: { apiVersion: 1, kind: 'source', id: 'fake' },
    code: FAKE_SOURCE,
  });
  writePackage(nodeModules, {
    name: 'faucet-sink-fake',
    version: '2.0.0',
    faucet: { apiVersion: 1, kind: 'sink', id: 'fake' },
    code: FAKE_SINK,
  });
  return dir;
}
