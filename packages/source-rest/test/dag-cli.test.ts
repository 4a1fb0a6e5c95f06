/**
 * A users -> posts DAG from YAML through the built CLI: every user's posts are fetched with the right
 * ${parent.id}, and each parent gets its own state key.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from './helpers.js';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../../apps/cli/dist/bin.js');
const USERS = [1, 2, 3, 4, 5];

let server: TestServer;
let dir: string;
beforeAll(async () => {
  server = await startServer((req, res) => {
    if (req.url.pathname === '/users')
      return json(res, { users: USERS.map((id) => ({ id, name: `u${id}` })) });
    const match = /^\/users\/(\d+)\/posts$/.exec(req.url.pathname);
    if (!match) return json(res, { error: 'not found' }, 404);
    const user = Number(match[1]);
    json(
      res,
      [1, 2, 3].map((n) => ({ id: user * 100 + n, user_id: user, updated_at: n })),
    );
  });
  dir = await mkdtemp(join(tmpdir(), 'faucet-rest-dag-'));
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

describe('DAG through the CLI', () => {
  it('fetches every user’s posts with the parent id; state keys per parent', async () => {
    const yaml = `
name: blog
pipeline:
  source: { type: rest, config: { base_url: "${server.url}" } }
  sink: { type: file, config: { path: ./out/users.jsonl, format: jsonl } }
  state: { type: file, config: { path: ./state } }
matrix:
  - id: users
    source: { config: { path: /users, records_path: $.users } }
  - id: posts
    parent: users
    parent_key: id
    source:
      config:
        path: "/users/\${parent.id}/posts"
        replication_method: { type: Incremental, cursor_field: updated_at }
    sink: { config: { path: "./out/posts-\${parent.id}.jsonl" } }
`;
    await writeFile(join(dir, 'pipeline.yaml'), yaml);
    await run(process.execPath, [BIN, 'run', 'pipeline.yaml'], { cwd: dir, timeout: 30_000 });
    const posts = server.requests.filter((r) => r.url.pathname.endsWith('/posts')).map((r) => r.url.pathname);
    expect(posts.sort()).toEqual(USERS.map((id) => `/users/${id}/posts`));
    for (const id of USERS) {
      const lines = (await readFile(join(dir, 'out', `posts-${id}.jsonl`), 'utf8')).trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { user_id: number }).user_id)).toEqual([id, id, id]);
    }
    const { stdout } = await run(process.execPath, [BIN, 'state', 'list', '-c', 'pipeline.yaml'], {
      cwd: dir,
    });
    const keys = stdout.trim().split('\n');
    for (const id of USERS) expect(keys).toContain(`blog::posts::${id}`);
  });
});
