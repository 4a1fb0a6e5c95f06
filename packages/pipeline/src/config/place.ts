/** Where problems are in the file: a line and column for each config path, inherited values at their source. */
import type { Redactor } from '@faucet/core';
import type { LocatedIssue } from '../errors.js';
import type { ParsedYaml } from './yaml.js';

/** Place a problem in the file: a row's inherited value is reported where `pipeline` sets it. */
export function placeIssue(issue: LocatedIssue, parsed: ParsedYaml): LocatedIssue {
  const own = parsed.locate(issue.path);
  const row = /^matrix\[\d+\]\.(.+)$/.exec(issue.path);
  let path = issue.path;
  let where = own;
  if (row?.[1] && !own?.exact) {
    const inheritedPath = `pipeline.${row[1]}`;
    const inherited = parsed.locate(inheritedPath);
    const depth = (found: string | undefined, prefix: number) =>
      found === undefined ? -1 : found.split(/[.[]/).length - prefix;
    if (inherited?.exact) {
      path = inheritedPath;
      where = inherited;
    } else if (inherited && depth(inherited.found, 1) > depth(own?.found, 1)) {
      where = inherited;
    }
  }
  return where ? { ...issue, path, line: where.line, column: where.column } : { ...issue, path };
}

export function placeIssues(issues: LocatedIssue[], parsed: ParsedYaml, redactor: Redactor): LocatedIssue[] {
  const seen = new Set<string>();
  const out: LocatedIssue[] = [];
  for (const issue of issues) {
    const placed = placeIssue(issue, parsed);
    placed.message = redactor.redact(placed.message);
    const key = `${placed.path}\u0000${placed.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(placed);
  }
  return out.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
}
