import { buildPipelineJsonSchema } from '@faucet/pipeline';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { collectSchemaPlugins } from '../src/commands/schema.js';
import { cleanupTempDirs, fakePluginDir, tempDir } from './helpers.js';

afterAll(cleanupTempDirs);

async function schemaFor() {
  const plugins = fakePluginDir();
  const cwd = tempDir();
  const { plugins: found, warnings } = await collectSchemaPlugins(
    { stdout: process.stdout, stderr: process.stderr, env: { FAUCET_PLUGIN_PATH: plugins }, cwd },
    undefined,
  );
  expect(warnings).toEqual([]);
  return buildPipelineJsonSchema(found);
}

describe('faucet schema', () => {
  it('covers the installed connectors, built-in state stores and transforms, and compiles', async () => {
    const schema = await schemaFor();
    const defs = schema.$defs as Record<string, { oneOf?: Array<{ title?: string }> }>;
    // The fixture connectors, plus whatever the CLI itself depends on (the file connectors).
    const titles = (kind: string) => defs[kind]?.oneOf?.map((b) => b.title) ?? [];
    expect(titles('source')).toContain('source fake');
    expect(titles('source').at(-1)).toBe('another source (a package name or path)');
    expect(titles('sink')).toContain('sink fake');
    expect(titles('state').slice(0, 2)).toEqual(['state file', 'state memory']);
    expect(defs.transform?.oneOf?.map((b) => b.title)).toContain('transform flatten');
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  it('accepts a good pipeline file and rejects unknown keys and bad connector configs', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    const validate = ajv.compile(await schemaFor());
    const good = parse(`
version: 1
name: demo
pipeline:
  source: { type: fake, config: { count: 3 } }
  transforms: [ { type: flatten, config: { separator: "." } }, { type: snake_case } ]
  sink: { type: fake, config: { path: out.jsonl } }
  state: { type: file, config: { path: ./state } }
  dlq: { sink: { type: ./my-sink.js, config: { anything: 1 } }, max_failures_total: 3 }
matrix:
  - id: a
    source: { config: { prefix: a } }
  - id: b
    parent: a
    depends_on: [a]
execution: { max_concurrent: 2, on_error: stop }
`);
    expect(validate(good), JSON.stringify(validate.errors)).toBe(true);

    for (const bad of [
      { pipeline: { source: { type: 'fake', config: { count: 'many' } } } },
      { pipeline: { sink: { type: 'fake', config: {} } } }, // path is required
      { pipeline: { transforms: [{ type: 'flatten', config: { seperator: '_' } }] } },
      { pipeline: { batch_sise: 3 } },
      { execution: { on_error: 'explode' } },
      { matrix: [{ id: 'a', colour: 'red' }] },
    ]) {
      expect(validate(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});
