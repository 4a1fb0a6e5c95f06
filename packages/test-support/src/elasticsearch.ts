/**
 * The Elasticsearch nodes of `scripts/services.sh`, for tests, over plain `fetch` (no client needed):
 * the shared node (FAUCET_TEST_ELASTICSEARCH_URL, which may still be starting when started in the
 * background, so every user waits for its cluster health first), indices of a test file's own, and
 * the on-demand strict node (security on, a tiny write queue, no index auto-creation).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describeWithService, type ServiceSpec } from '@faucet/testkit';
import { afterAll, beforeAll } from 'vitest';
import { SERVICES_HINT } from './services.js';

export const ELASTICSEARCH_SERVICE: ServiceSpec = {
  service: 'Elasticsearch',
  variable: 'FAUCET_TEST_ELASTICSEARCH_URL',
  hint: SERVICES_HINT,
};

/** How long a test waits for a node still booting (a loaded 2-core machine takes 20 to 60 s). */
export const ELASTICSEARCH_BOOT_MS = 280_000;

export interface EsAuth {
  user: string;
  password: string;
}

export interface EsResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test code reads whatever JSON the node answers
  body: any;
}

/** One request to a node; the body is JSON, or NDJSON when given as an array of objects. */
export async function esRequest(
  url: string,
  method: string,
  path: string,
  body?: unknown,
  auth?: EsAuth,
): Promise<EsResponse> {
  const headers: Record<string, string> = {};
  if (auth)
    headers.authorization = `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`;
  let payload: string | undefined;
  if (Array.isArray(body)) {
    headers['content-type'] = 'application/x-ndjson';
    payload = `${body.map((line) => JSON.stringify(line)).join('\n')}\n`;
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const response = await fetch(`${url}${path}`, { method, headers, ...(payload ? { body: payload } : {}) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body: parsed };
}

/** Poll `_cluster/health` until the node is yellow or green. */
export async function waitForElasticsearch(
  url: string,
  auth?: EsAuth,
  timeoutMs = ELASTICSEARCH_BOOT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const health = await esRequest(
        url,
        'GET',
        '/_cluster/health?wait_for_status=yellow&timeout=2s',
        undefined,
        auth,
      );
      if (health.status === 200 && ['green', 'yellow'].includes(health.body?.status)) return;
      last = `HTTP ${health.status}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline)
      throw new Error(`Elasticsearch at ${url} is not ready after ${timeoutMs} ms (${last})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** `describe(title, …)` with the node's URL once it answers, or a failing / skipped stand-in without one. */
export function withElasticsearch(title: string, register: (url: string) => void): void {
  describeWithService(ELASTICSEARCH_SERVICE, title, (url) => {
    beforeAll(() => waitForElasticsearch(url), ELASTICSEARCH_BOOT_MS + 10_000);
    register(url);
  });
}

/**
 * Index names of this test file's own (`faucet-t-<tag>-<random>-<suffix>`), every one of them deleted
 * after its tests, so files run in parallel on the shared node.
 */
export function useIndices(
  url: string | undefined,
  tag: string,
): { prefix: string; name: (suffix: string) => string } {
  const prefix = `faucet-t-${tag}-${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    if (!url) return;
    await esRequest(url, 'DELETE', `/${prefix}*?expand_wildcards=all`);
  });
  return { prefix, name: (suffix) => `${prefix}-${suffix}` };
}

/** Make everything written to `index` searchable, then return its documents' sources (up to 10,000). */
export async function searchAll(
  url: string,
  index: string,
  auth?: EsAuth,
): Promise<Record<string, unknown>[]> {
  await esRequest(url, 'POST', `/${index}/_refresh`, undefined, auth);
  const found = await esRequest(
    url,
    'POST',
    `/${index}/_search?size=10000`,
    { query: { match_all: {} } },
    auth,
  );
  if (found.status === 404) return [];
  if (found.status !== 200)
    throw new Error(`searching ${index}: HTTP ${found.status} ${JSON.stringify(found.body)}`);
  return (found.body.hits.hits as { _source: Record<string, unknown> }[]).map((hit) => hit._source);
}

/** The number of documents in `index` after a refresh (0 when it does not exist). */
export async function countDocs(url: string, index: string, auth?: EsAuth): Promise<number> {
  await esRequest(url, 'POST', `/${index}/_refresh`, undefined, auth);
  const counted = await esRequest(url, 'GET', `/${index}/_count`, undefined, auth);
  if (counted.status === 404) return 0;
  if (counted.status !== 200) throw new Error(`counting ${index}: HTTP ${counted.status}`);
  return counted.body.count as number;
}

const SERVICES_SH = fileURLToPath(new URL('../../../scripts/services.sh', import.meta.url));
const run = promisify(execFile);

export interface StrictNode {
  url: string;
  auth: EsAuth;
}

/**
 * Start the strict node (`services.sh start elasticsearch_strict`: about half a minute) and read its
 * address and credentials from `services.sh env`. `stopStrictNode` stops it again.
 */
export async function startStrictNode(): Promise<StrictNode> {
  await run('bash', [SERVICES_SH, 'start', 'elasticsearch_strict'], { timeout: ELASTICSEARCH_BOOT_MS });
  const { stdout } = await run('bash', [SERVICES_SH, 'env', 'elasticsearch_strict']);
  const vars = new Map<string, string>();
  for (const match of stdout.matchAll(/^export (\w+)=(.*)$/gm))
    vars.set(match[1] as string, match[2] as string);
  const url = vars.get('FAUCET_TEST_ELASTICSEARCH_STRICT_URL');
  const user = vars.get('FAUCET_TEST_ELASTICSEARCH_STRICT_USER');
  const password = vars.get('FAUCET_TEST_ELASTICSEARCH_STRICT_PASSWORD');
  if (!url || !user || !password)
    throw new Error(`services.sh env elasticsearch_strict printed no address:\n${stdout}`);
  const node = { url, auth: { user, password } };
  await waitForElasticsearch(node.url, node.auth);
  return node;
}

export async function stopStrictNode(): Promise<void> {
  await run('bash', [SERVICES_SH, 'stop', 'elasticsearch_strict'], { timeout: 120_000 });
}
