// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are about ${…} interpolation syntax
import { join } from 'node:path';
import { cleanupTempDirs, fakePluginDir, tempDir, write } from '@faucet/test-support';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPipeline } from '../src/config/load.js';
import { PipelineFileError } from '../src/errors.js';

afterAll(cleanupTempDirs);

const plugins = fakePluginDir();

async function load(yaml: string, env: NodeJS.ProcessEnv = {}, name = 'pipe.yaml') {
  const dir = tempDir();
  const file = write(join(dir, name), yaml);
  return loadPipeline(file, { cwd: dir, env, pluginPath: plugins, cpus: 8 });
}

async function problems(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<PipelineFileError> {
  try {
    await load(yaml, env);
  } catch (error) {
    if (error instanceof PipelineFileError) return error;
    throw error;
  }
  throw new Error('expected the pipeline file to be rejected');
}

const valid = `version: 1
pipeline:
  source:
    type: fake
    config: { count: 3 }
  sink:
    type: fake
    config:
      path: ./out.jsonl
  state: { type: memory }
`;

describe('loadPipeline', () => {
  it('loads a valid file: name from the file stem, one row-0, defaults applied', async () => {
    const pipeline = await load(valid);
    expect(pipeline.name).toBe('pipe');
    expect(pipeline.rows.map((r) => r.stateKey)).toEqual(['pipe::row-0']);
    expect(pipeline.rows[0]?.connectors.source.config).toEqual({
      count: 3,
      prefix: '',
      delay_ms: 0,
      full_table: false,
    });
    expect(pipeline.rows[0]?.connectors.source.resolved.location).toBe('FAUCET_PLUGIN_PATH');
    expect(pipeline.execution).toEqual({ maxConcurrent: 4, onError: 'continue', retries: 0 });
  });

  it('reports YAML syntax errors with their line', async () => {
    const error = await problems('version: 1\npipeline:\n  source: [a, b\n  sink: x\n');
    expect(error.located[0]).toMatchObject({
      line: expect.any(Number),
      message: expect.stringContaining('YAML syntax error'),
    });
    expect(error.message).toMatch(/pipe\.yaml:\d+:\d+ YAML syntax error/);
  });

  it('a missing } names the line of the opening brace, not only where YAML noticed (issue 11 item 10)', async () => {
    const error = await problems(
      'version: 1\npipeline:\n  source: { type: fake, config: { count: 3 }\n  sink: { type: fake, config: { path: ./o } }\n',
    );
    expect(error.located[0]).toMatchObject({
      line: 3,
      column: 11,
      message: expect.stringContaining('is never closed'),
    });
    expect(error.message).toContain(
      'pipe.yaml:3:11 YAML syntax error: this { is never closed: add the missing }',
    );
  });

  it('an unquoted ${env:X} inside a flow mapping: one message saying to quote it, not a flood (issue 11 item 6)', async () => {
    const error = await problems(
      'version: 1\npipeline:\n  source: { type: fake, config: { prefix: ${env:P} } }\n  sink: { type: fake, config: { path: ./o } }\n',
      { P: 'x' },
    );
    expect(error.located).toHaveLength(1);
    expect(error.located[0]).toMatchObject({ line: 3, column: 43 });
    expect(error.located[0]?.message).toMatch(
      /^\$\{env:P\} inside \{ … \} must be quoted, .* write "\$\{env:P\}"/,
    );
  });

  it('lists every problem at once, each with file:line:col and path', async () => {
    const error = await problems(
      `version: 1
pipeline:
  source:
    type: fake
    config:
      count: many
      colour: red
  sink:
    type: nope
  transforms:
    - type: flatten
      config: { seperator: "_" }
  batch_sise: 10
execution: { on_error: explode }
`,
    );
    const byPath = Object.fromEntries(error.located.map((i) => [i.path, i]));
    expect(byPath['pipeline.batch_sise']).toMatchObject({
      line: 13,
      message: 'unknown key; did you mean "batch_size"?',
    });
    expect(byPath['execution.on_error']).toMatchObject({ line: 14 });
    // Connector blocks are checked even though the structure is wrong elsewhere.
    expect(error.located.map((i) => `${i.line} ${i.path}`)).toEqual([
      '6 pipeline.source.config.count',
      '7 pipeline.source.config.colour',
      '9 pipeline.sink.type',
      '12 pipeline.transforms[0].config.seperator',
      '13 pipeline.batch_sise',
      '14 execution.on_error',
    ]);
    expect(error.message).toContain('pipe.yaml:9:5 pipeline.sink.type: sink "nope" is not installed');
    expect(error.message).toContain('did you mean "separator"?');
    expect(error.message).toContain('(source "fake")');
  });

  it('names a missing environment variable and the line using it', async () => {
    const error = await problems(valid.replace('path: ./out.jsonl', 'path: ${env:OUT_DIR}/out.jsonl'));
    expect(error.located).toEqual([
      expect.objectContaining({
        path: 'pipeline.sink.config.path',
        line: 9,
        message: expect.stringContaining('environment variable OUT_DIR is not set'),
      }),
    ]);
    const ok = await load(valid.replace('path: ./out.jsonl', 'path: ${env:OUT_DIR}/out.jsonl'), {
      OUT_DIR: '/tmp/x',
    });
    expect(ok.rows[0]?.connectors.sink.config).toMatchObject({ path: '/tmp/x/out.jsonl' });
  });

  it('puts a problem inherited by matrix rows where pipeline sets it, once', async () => {
    const error = await problems(`version: 1
name: demo
pipeline:
  source: { type: fake, config: { count: -1 } }
  sink: { type: fake, config: { path: out.jsonl } }
matrix:
  - id: a
  - id: b
    source: { config: { prefix: 5 } }
`);
    expect(error.located.map((i) => `${i.line} ${i.path}`)).toEqual([
      '4 pipeline.source.config.count',
      '9 matrix[1].source.config.prefix',
    ]);
  });

  it('checks templated configs with the template left out, and DAG problems', async () => {
    const error = await problems(`name: demo
pipeline:
  source: { type: fake, config: { count: 2 } }
  sink: { type: fake, config: { path: out.jsonl } }
matrix:
  - id: users
  - id: posts
    parent: users
    source: { config: { prefix: "\${parent.id}-", count: "\${parent.n}" } }
  - id: a
    depends_on: [b]
  - id: b
    depends_on: [a, ghost]
`);
    const messages = error.located.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual([
      expect.stringMatching(/^matrix\[2\]: rows wait for each other in a cycle: a -> b -> a/),
      expect.stringMatching(/^matrix\[3\]\.depends_on\[1\]: unknown row "ghost"/),
    ]);
  });

  it('scrubs secrets that came from ${env:} out of messages', async () => {
    const error = await problems(
      `pipeline:
  source: { type: fake, config: { token: "\${env:TOKEN}", label: 17 } }
  sink: { type: fake, config: { path: out.jsonl, connection_url: "postgres://app:\${env:PW}@db:5432/x" } }
`,
      { TOKEN: 'tok-very-secret', PW: 'hunter22' },
    );
    expect(error.message).toContain('pipeline.source.config.label');
    const loaded = await load(
      `pipeline:
  source: { type: fake, config: { token: "Bearer \${env:TOKEN}" } }
  sink: { type: fake, config: { path: out.jsonl, connection_url: "postgres://app:\${env:PW}@db:5432/x" } }
`,
      { TOKEN: 'tok-very-secret', PW: 'hunter22' },
    );
    const text = 'failed with Bearer tok-very-secret, token tok-very-secret, pw hunter22';
    expect(loaded.redactor.redact(text)).toBe('failed with ***, token ***, pw ***');
  });

  it('gives an unquoted ${env:…} the YAML type of its value; a quoted one stays a string', async () => {
    const pipeline = await load(
      `pipeline:
  source:
    type: fake
    config:
      count: \${env:N}
      label: "\${env:N}"
      prefix: \${env:N}-x
  sink: { type: fake, config: { path: out.jsonl, fail: "\${env:NO}" } }
`,
      { N: '7', NO: 'false' },
    ).catch((e: Error) => e);
    // "false" quoted is a string where the sink wants a boolean.
    // The path and the expected type are named; zod's wording around them is not compared.
    expect((pipeline as Error).message).toMatch(/pipeline\.sink\.config\.fail: .*\bboolean\b/);
    const ok = await load(
      `pipeline:
  source:
    type: fake
    config:
      count: \${env:N}
      label: "\${env:N}"
      prefix: \${env:N}-x
  sink:
    type: fake
    config:
      path: out.jsonl
      fail: \${env:NO}
`,
      { N: '7', NO: 'false' },
    );
    expect(ok.rows[0]?.connectors.source.config).toMatchObject({ count: 7, label: '7', prefix: '7-x' });
    expect(ok.rows[0]?.connectors.sink.config).toMatchObject({ fail: false });
  });

  it('reports a file name that cannot be a pipeline name', async () => {
    const dir = tempDir();
    const file = write(join(dir, 'my pipeline.yaml'), valid);
    await expect(loadPipeline(file, { cwd: dir, env: {}, pluginPath: plugins })).rejects.toThrow(
      /cannot be used as the pipeline name/,
    );
  });
});
