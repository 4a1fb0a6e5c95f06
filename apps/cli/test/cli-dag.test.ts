/**
 * Acceptance: a matrix with a parent/child DAG and depends_on, file sources and sinks, run by the
 * real CLI: rows run in the right order, children once per record the parent wrote, with the state
 * keys of ARCHITECTURE §5; a second run resumes everywhere and starts no child.
 */
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, cleanupTempDirs, readJsonl, readStateDir, runCli, tempDir, write } from './helpers.js';

beforeAll(assertBuilt);
afterAll(cleanupTempDirs);

interface Summary {
  status: string;
  rows: Array<{ id: string; status: string; invocations: number; reason?: string }>;
  invocations: Array<{
    row: string;
    state_key: string;
    status: string;
    records_written: number;
    parent_key?: string;
  }>;
}

function setup(): string {
  const dir = tempDir();
  write(join(dir, 'data', 'users.csv'), 'id,name\nu1,Ada\nu2,Grace\nu3,Linus\n');
  for (const [user, posts] of [
    ['u1', ['p1', 'p2']],
    ['u2', ['p3']],
    ['u3', ['p4', 'p5', 'p6']],
  ] as const) {
    write(
      join(dir, 'data', `posts-${user}.csv`),
      `post_id,title\n${posts.map((p) => `${p},About ${p}`).join('\n')}\n`,
    );
  }
  write(join(dir, 'data', 'tags.csv'), 'tag\nnews\nhowto\n');
  write(
    join(dir, 'shop.yaml'),
    `version: 1
name: shop
pipeline:
  source: { type: file, config: { format: csv } }
  sink: { type: file, config: { format: jsonl } }
  state: { type: file, config: { path: ./state } }
matrix:
  - id: users
    source: { config: { path: ./data/users.csv } }
    sink: { config: { path: ./out/users.jsonl } }
  - id: posts
    parent: users
    source: { config: { path: "./data/posts-\${parent.id}.csv" } }
    transforms:
      - type: set
        config: { values: { loaded_by: faucet } }
    sink: { config: { path: "./out/posts-\${parent.id}.jsonl" } }
  - id: report
    depends_on: [posts]
    source: { config: { path: ./data/tags.csv } }
    sink: { config: { path: ./out/report.jsonl } }
execution: { max_concurrent: 3 }
`,
  );
  return dir;
}

describe('faucet run with a matrix DAG', () => {
  it('runs parent, children per written record, then depends_on rows, with their state keys', async () => {
    const dir = setup();
    const validate = await runCli(['validate', 'shop.yaml'], { cwd: dir });
    expect(validate.code, validate.stderr).toBe(0);
    expect(validate.stdout).toContain('shop::users');
    expect(validate.stdout).toContain('shop::posts::<id of each "users" record>');
    expect(validate.stdout).toContain('once per record "users" writes');

    const first = await runCli(['run', 'shop.yaml', '--output', 'json'], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    const summary = JSON.parse(first.stdout) as Summary;
    expect(summary.status).toBe('ok');
    expect(summary.rows.map((r) => [r.id, r.status, r.invocations])).toEqual([
      ['users', 'ok', 1],
      ['posts', 'ok', 3],
      ['report', 'ok', 1],
    ]);
    // Invocations are listed in the order they finished.
    expect(summary.invocations.map((i) => i.state_key)[0]).toBe('shop::users');
    expect(summary.invocations.map((i) => i.state_key)[4]).toBe('shop::report');
    expect(
      summary.invocations
        .map((i) => i.state_key)
        .slice(1, 4)
        .sort(),
    ).toEqual(['shop::posts::u1', 'shop::posts::u2', 'shop::posts::u3']);

    const state = readStateDir(join(dir, 'state'));
    expect(Object.keys(state).sort()).toEqual([
      'shop::posts::u1',
      'shop::posts::u2',
      'shop::posts::u3',
      'shop::report',
      'shop::users',
    ]);
    // Checkpoints were stored in DAG order, and the outputs were written in that order too.
    const at = (key: string) => Date.parse(state[key]?.updated_at ?? '');
    const written = (file: string) => statSync(join(dir, 'out', file)).mtimeMs;
    for (const user of ['u1', 'u2', 'u3']) {
      expect(at(`shop::posts::${user}`)).toBeGreaterThanOrEqual(at('shop::users'));
      expect(at('shop::report')).toBeGreaterThanOrEqual(at(`shop::posts::${user}`));
      expect(written(`posts-${user}.jsonl`)).toBeGreaterThanOrEqual(written('users.jsonl'));
      expect(written('report.jsonl')).toBeGreaterThanOrEqual(written(`posts-${user}.jsonl`));
    }
    expect(readJsonl(join(dir, 'out', 'posts-u3.jsonl'))).toEqual([
      { post_id: 'p4', title: 'About p4', loaded_by: 'faucet' },
      { post_id: 'p5', title: 'About p5', loaded_by: 'faucet' },
      { post_id: 'p6', title: 'About p6', loaded_by: 'faucet' },
    ]);
    expect(readJsonl(join(dir, 'out', 'users.jsonl')).map((r) => r.id)).toEqual(['u1', 'u2', 'u3']);

    // Second run: nothing new anywhere; no parent record written, so no child invocation.
    const second = await runCli(['run', 'shop.yaml', '--output', 'json'], { cwd: dir });
    expect(second.code, second.stderr).toBe(0);
    const again = JSON.parse(second.stdout) as Summary;
    expect(again.invocations.map((i) => [i.state_key, i.records_written])).toEqual([
      ['shop::users', 0],
      ['shop::report', 0],
    ]);
    expect(again.rows.find((r) => r.id === 'posts')).toMatchObject({
      status: 'ok',
      invocations: 0,
      reason: 'parent "users" wrote no records',
    });
  });

  it('skips the subtree of a failed row and exits non-zero (on_error: continue)', async () => {
    const dir = setup();
    // u2's posts file is missing: that child fails, its siblings still run, report is skipped.
    rmSync(join(dir, 'data', 'posts-u2.csv'));
    const run = await runCli(['run', 'shop.yaml', '--output', 'json'], { cwd: dir });
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as Summary;
    expect(summary.status).toBe('failed');
    expect(summary.rows.map((r) => [r.id, r.status])).toEqual([
      ['users', 'ok'],
      ['posts', 'failed'],
      ['report', 'skipped'],
    ]);
    expect(summary.rows.find((r) => r.id === 'report')?.reason).toBe('dependency "posts" failed');
    expect(
      summary.invocations
        .filter((i) => i.row === 'posts')
        .map((i) => [i.parent_key, i.status])
        .sort(),
    ).toEqual([
      ['u1', 'ok'],
      ['u2', 'failed'],
      ['u3', 'ok'],
    ]);
  });
});
