/**
 * Turning schema issues (zod's, or any Standard Schema's) into `path: message` problems. An unknown
 * key becomes one problem per key, pointing at the key itself, with a "did you mean" hint.
 */
import { formatIssuePath } from '@faucet/core';
import type { LocatedIssue } from '../errors.js';
import { nearest } from '../levenshtein.js';

export interface SchemaIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
  /** zod's `unrecognized_keys` issues list the keys. */
  readonly keys?: readonly string[];
  readonly code?: string;
}

export function joinPath(prefix: string, path: string): string {
  if (!prefix) return path;
  if (!path) return prefix;
  return path.startsWith('[') ? `${prefix}${path}` : `${prefix}.${path}`;
}

/**
 * Problems from schema issues, paths prefixed with `at`. `knownKeys(path)` lists the keys allowed
 * where an unknown key was found, for suggestions.
 */
export function schemaIssues(
  issues: readonly SchemaIssue[],
  at: string,
  knownKeys: (path: string) => readonly string[] = () => [],
): LocatedIssue[] {
  const out: LocatedIssue[] = [];
  for (const issue of issues) {
    const path = joinPath(at, formatIssuePath(issue.path as never));
    const keys = Array.isArray(issue.keys) ? issue.keys : undefined;
    if (keys && (issue.code === undefined || issue.code === 'unrecognized_keys')) {
      const allowed = knownKeys(path);
      for (const key of keys) {
        const hint = nearest(key, allowed, 1)[0];
        const known = allowed.length > 0 ? `; allowed here: ${[...allowed].sort().join(', ')}` : '';
        out.push({
          path: joinPath(path, key),
          message: hint ? `unknown key; did you mean "${hint}"?` : `unknown key${known}`,
        });
      }
      continue;
    }
    out.push({ path, message: issue.message });
  }
  return out;
}

type JsonSchemaNode = { [key: string]: unknown };

function isNode(value: unknown): value is JsonSchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The property names a JSON Schema allows at a (relative) dotted path, following properties and items. */
export function jsonSchemaKeysAt(schema: unknown, relativePath: string): string[] {
  let nodes: unknown[] = [schema];
  const segments = relativePath.match(/[^.[\]]+/g) ?? [];
  const expand = (node: unknown): unknown[] => {
    if (!isNode(node)) return [];
    const out: unknown[] = [node];
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
      const list = node[key];
      if (Array.isArray(list)) for (const item of list) out.push(...expand(item));
    }
    return out;
  };
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const node of nodes.flatMap(expand)) {
      if (!isNode(node)) continue;
      if (/^\d+$/.test(segment) && node.items !== undefined) next.push(node.items);
      else if (isNode(node.properties) && segment in node.properties) next.push(node.properties[segment]);
    }
    nodes = next;
  }
  const keys = new Set<string>();
  for (const node of nodes.flatMap(expand)) {
    if (isNode(node) && isNode(node.properties))
      for (const key of Object.keys(node.properties)) keys.add(key);
  }
  return [...keys];
}
