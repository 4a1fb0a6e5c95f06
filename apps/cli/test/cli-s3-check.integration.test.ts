// biome-ignore-all lint/suspicious/noTemplateCurlyInString: pipeline files use ${env:…} interpolation
/**
 * `faucet check` on an S3 pipeline: the source's `status(bookmark)` gets the row's stored bookmark,
 * so the report counts the objects not read since the last run (before any run: all of them).
 */
import { join } from 'node:path';
import { putObject, s3TestConnection, useBucket, withS3 } from '@faucet/test-support';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, runCli, tempDir, write } from './helpers.js';

beforeAll(() => assertBuilt());
afterAll(() => cleanupTempDirs());

const jsonl = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => `${JSON.stringify({ id: from + i })}\n`).join('');

withS3('faucet check on an S3 pipeline', () => {
  const bucket = useBucket('cli-s3-check');

  it('shows the objects pending since the stored bookmark', async () => {
    const client = bucket.client();
    for (let i = 1; i <= 3; i++) await putObject(client, bucket.name, `in/${i}.jsonl`, jsonl(i * 10, 2));
    const dir = tempDir('faucet-check-s3-');
    const c = s3TestConnection();
    write(
      join(dir, 'faucet.yaml'),
      `version: 1
name: s3check
pipeline:
  source: { type: s3, config: { bucket: ${bucket.name}, prefix: in/, endpoint_url: "\${env:S3_ENDPOINT}", access_key_id: "\${env:S3_KEY}", secret_access_key: "\${env:S3_SECRET}" } }
  sink: { type: file, config: { path: out.jsonl } }
  state: { type: file, config: { path: state } }
`,
    );
    const env = { S3_ENDPOINT: c.endpoint_url, S3_KEY: c.access_key_id, S3_SECRET: c.secret_access_key };
    type Report = { rows: Array<Record<string, unknown>> };

    const before = await runCli(['check', '-o', 'json'], { cwd: dir, env });
    expect(before.code, before.stderr).toBe(0);
    expect((JSON.parse(before.stdout) as Report).rows[0]).toMatchObject({
      status: 'ok',
      check: 'passed',
      facts: { matched_objects: 3, pending_objects: 3 },
      state: 'no checkpoint yet',
    });

    const run = await runCli(['run'], { cwd: dir, env });
    expect(run.code, run.stderr).toBe(0);
    for (let i = 4; i <= 5; i++) await putObject(client, bucket.name, `in/${i}.jsonl`, jsonl(i * 10, 2));

    const after = await runCli(['check', '-o', 'json'], { cwd: dir, env });
    expect(after.code, after.stderr).toBe(0);
    const row = (JSON.parse(after.stdout) as Report).rows[0];
    expect(row).toMatchObject({
      facts: { matched_objects: 5, pending_objects: 2, last_object: 'in/3.jsonl' },
    });
    expect((row?.state as { bookmark?: unknown }).bookmark).toBeDefined();
    const text = await runCli(['check'], { cwd: dir, env });
    expect(text.stdout).toMatch(/status: .*matched_objects=5, pending_objects=2, pending_bytes=\d+/);
    expect(text.stdout).not.toContain(c.secret_access_key);
  }, 120_000);
});
