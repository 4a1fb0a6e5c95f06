/**
 * The row graph: a child waits for its parent, a row waits for everything in its `depends_on`.
 * Unknown ids, self-dependencies and cycles are load-time errors; a valid graph gets a stable
 * topological order (file order among rows that could run together).
 */
import type { LocatedIssue } from '../errors.js';

export interface DagNode {
  id: string;
  /** Path of the row for messages, e.g. `matrix[2]`. */
  at: string;
  parent?: string;
  dependsOn: readonly string[];
}

/** The rows a row waits for: its parent first, then its `depends_on`. */
export function predecessors(node: DagNode): string[] {
  const out = node.parent === undefined ? [] : [node.parent];
  for (const dep of node.dependsOn) if (!out.includes(dep)) out.push(dep);
  return out;
}

/** Problems with references: unknown ids, self-references, repeated entries. */
export function checkReferences(nodes: readonly DagNode[]): LocatedIssue[] {
  const issues: LocatedIssue[] = [];
  const ids = new Set(nodes.map((n) => n.id));
  const known = () => [...ids].map((id) => `"${id}"`).join(', ');
  for (const node of nodes) {
    if (node.parent !== undefined) {
      if (node.parent === node.id) {
        issues.push({ path: `${node.at}.parent`, message: `row "${node.id}" cannot be its own parent` });
      } else if (!ids.has(node.parent)) {
        issues.push({
          path: `${node.at}.parent`,
          message: `unknown row "${node.parent}"; rows are ${known()}`,
        });
      }
    }
    const seen = new Set<string>();
    node.dependsOn.forEach((dep, i) => {
      const path = `${node.at}.depends_on[${i}]`;
      if (dep === node.id) issues.push({ path, message: `row "${node.id}" cannot depend on itself` });
      else if (!ids.has(dep)) issues.push({ path, message: `unknown row "${dep}"; rows are ${known()}` });
      else if (seen.has(dep)) issues.push({ path, message: `"${dep}" is listed twice` });
      seen.add(dep);
    });
  }
  return issues;
}

/**
 * Cycles over parent and depends_on edges, each reported once at the row where it was found:
 * `a -> b -> a`. References to unknown rows and self-references are ignored here.
 */
export function findCycles(nodes: readonly DagNode[]): LocatedIssue[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const issues: LocatedIssue[] = [];
  const stack: string[] = [];
  const visit = (id: string): void => {
    const node = byId.get(id);
    if (!node) return;
    state.set(id, 'visiting');
    stack.push(id);
    for (const pred of predecessors(node)) {
      if (pred === id || !byId.has(pred)) continue;
      const mark = state.get(pred);
      if (mark === 'visiting') {
        const cycle = [...stack.slice(stack.indexOf(pred)), pred];
        const start = byId.get(pred) as DagNode;
        issues.push({
          path: start.at,
          message: `rows wait for each other in a cycle: ${cycle.join(' -> ')} (each waits for the next, through parent or depends_on)`,
        });
      } else if (mark === undefined) {
        visit(pred);
      }
    }
    stack.pop();
    state.set(id, 'done');
  };
  for (const node of nodes) if (!state.has(node.id)) visit(node.id);
  return issues;
}

/** A topological order (predecessors first), keeping file order where the graph allows. */
export function topologicalOrder(nodes: readonly DagNode[]): string[] {
  const remaining = new Map(nodes.map((n) => [n.id, predecessors(n).filter((p) => p !== n.id)]));
  const order: string[] = [];
  while (remaining.size > 0) {
    const ready = nodes.find(
      (n) => remaining.has(n.id) && (remaining.get(n.id) ?? []).every((p) => !remaining.has(p)),
    );
    if (!ready) break; // a cycle: reported by findCycles
    order.push(ready.id);
    remaining.delete(ready.id);
  }
  return order;
}
