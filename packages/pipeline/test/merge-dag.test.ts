// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are about ${…} interpolation syntax
import { describe, expect, it } from 'vitest';
import { checkReferences, type DagNode, findCycles, topologicalOrder } from '../src/config/dag.js';
import { expandPipeline } from '../src/config/expand.js';
import { interpolate } from '../src/config/interpolate.js';
import { deepMerge, mergeConnectorBlock } from '../src/config/merge.js';
import { type PipelineFile, pipelineFileSchema } from '../src/config/schema.js';

describe('deepMerge', () => {
  it('merges objects recursively; arrays, scalars and null replace', () => {
    const base = { a: { b: 1, c: [1, 2], d: { e: 'x' } }, keep: true, list: [1] };
    const out = deepMerge(base, { a: { c: [3], d: { f: 'y' } }, list: [], keep: null });
    expect(out).toEqual({ a: { b: 1, c: [3], d: { e: 'x', f: 'y' } }, keep: null, list: [] });
    expect(base).toEqual({ a: { b: 1, c: [1, 2], d: { e: 'x' } }, keep: true, list: [1] });
  });

  it('replaces a connector config when a row names another type', () => {
    const base = { type: 'file', config: { path: 'a.csv', format: 'csv' } };
    expect(mergeConnectorBlock(base, { config: { path: 'b.csv' } })).toEqual({
      type: 'file',
      config: { path: 'b.csv', format: 'csv' },
    });
    expect(mergeConnectorBlock(base, { type: 'stdout', config: { format: 'jsonl' } })).toEqual({
      type: 'stdout',
      config: { format: 'jsonl' },
    });
  });
});

const nodes = (spec: Record<string, { parent?: string; deps?: string[] }>): DagNode[] =>
  Object.entries(spec).map(([id, s], i) => ({
    id,
    at: `matrix[${i}]`,
    dependsOn: s.deps ?? [],
    ...(s.parent ? { parent: s.parent } : {}),
  }));

describe('DAG', () => {
  it('orders rows after their parents and dependencies, keeping file order otherwise', () => {
    const graph = nodes({ posts: { parent: 'users' }, users: {}, audit: { deps: ['posts'] }, other: {} });
    expect(checkReferences(graph)).toEqual([]);
    expect(findCycles(graph)).toEqual([]);
    expect(topologicalOrder(graph)).toEqual(['users', 'posts', 'audit', 'other']);
  });

  it('reports unknown ids, self references and repeats', () => {
    const issues = checkReferences(
      nodes({ a: { parent: 'a' }, b: { parent: 'zz', deps: ['b', 'a', 'a', 'nope'] } }),
    );
    expect(issues).toEqual([
      { path: 'matrix[0].parent', message: 'row "a" cannot be its own parent' },
      { path: 'matrix[1].parent', message: expect.stringContaining('unknown row "zz"') },
      { path: 'matrix[1].depends_on[0]', message: 'row "b" cannot depend on itself' },
      { path: 'matrix[1].depends_on[2]', message: '"a" is listed twice' },
      { path: 'matrix[1].depends_on[3]', message: expect.stringContaining('unknown row "nope"') },
    ]);
  });

  it('finds cycles through parent and depends_on', () => {
    const issues = findCycles(nodes({ a: { deps: ['c'] }, b: { parent: 'a' }, c: { deps: ['b'] }, d: {} }));
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toMatch(/cycle: (a -> c -> b -> a|c -> b -> a -> c|b -> a -> c -> b)/);
  });
});

function expand(file: unknown) {
  const value = interpolate(file, { env: () => undefined, baseDir: '/' }).value;
  return expandPipeline(pipelineFileSchema.parse(value) as PipelineFile);
}

describe('expandPipeline', () => {
  const base = {
    pipeline: {
      source: { type: 'file', config: { path: 'in.csv', format: 'csv' } },
      sink: { type: 'file', config: { path: 'out.jsonl', format: 'jsonl' } },
      transforms: [{ type: 'snake_case' }],
      dlq: { sink: { type: 'file', config: { path: 'dlq.jsonl' } }, max_failures_total: 5 },
    },
  };

  it('gives a file without a matrix one row called row-0', () => {
    const out = expand(base);
    expect(out.issues).toEqual([]);
    expect(out.rows.map((r) => [r.id, r.at])).toEqual([['row-0', 'pipeline']]);
    expect(out.rows[0]?.dlq?.maxFailuresTotal).toBe(5);
  });

  it('deep-merges rows, turns dlq off with null, and collects what children read', () => {
    const out = expand({
      ...base,
      matrix: [
        { id: 'users', source: { config: { path: 'users.csv' } }, dlq: null },
        {
          id: 'posts',
          parent: 'users',
          parent_key: 'user.id',
          source: { config: { path: 'posts-${parent.user.id}-${parent.org}.csv' } },
          transforms: [],
        },
        { source: { config: { path: 'x.csv' } }, depends_on: ['posts'] },
      ],
    });
    expect(out.issues).toEqual([]);
    const [users, posts, third] = out.rows;
    expect(users?.source.config).toEqual({ path: 'users.csv', format: 'csv' });
    expect(users?.dlq).toBeUndefined();
    expect(users?.transforms.map((t) => t.type)).toEqual(['snake_case']);
    expect(users?.children).toEqual(['posts']);
    expect(users?.capturedFields.sort()).toEqual(['org', 'user.id']);
    expect(posts?.transforms).toEqual([]);
    expect(posts?.dlq?.sink.config).toEqual({ path: 'dlq.jsonl' });
    expect(third?.id).toBe('row-2');
    expect(out.order).toEqual(['users', 'posts', 'row-2']);
  });

  it('rejects ${parent.…} in a row without a parent, duplicate ids, and rows without a sink', () => {
    const out = expand({
      pipeline: { source: { type: 'file', config: { path: '${parent.id}' } } },
      matrix: [{ id: 'a', sink: { type: 'x' } }, { id: 'a', sink: { type: 'x' } }, { id: 'b' }],
    });
    expect(out.issues.map((i) => i.path)).toEqual([
      'matrix[1].id',
      'matrix[0].source.config.path',
      'matrix[1].source.config.path',
      'matrix[2].sink.type',
    ]);
  });
});
