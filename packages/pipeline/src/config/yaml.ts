/**
 * Parsing a pipeline file with the `yaml` package, keeping its syntax tree so that any config path
 * (`matrix[1].source.config.path`) can be mapped back to the line and column a user wrote it on.
 */
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';

export interface Position {
  line: number;
  column: number;
}

export interface ParsedYaml {
  /** The plain JS value of the document (aliases and `<<` merge keys resolved). */
  value: unknown;
  /** Where a path is written: the key of its deepest existing part, or undefined. */
  locate(path: string): Located | undefined;
  /** Paths of unquoted (plain) string scalars: `${env:N}` alone there takes the value's YAML type. */
  plainScalars: ReadonlySet<string>;
}

export interface Located extends Position {
  /** How much of the path exists in the file (the whole path when `exact`). */
  found: string;
  exact: boolean;
}

export interface YamlSyntaxProblem extends Position {
  message: string;
  /** Offset in the text where YAML noticed the problem. */
  offset: number;
}

export type PathSegment = string | number;

/** `a.b[2].c` → ['a', 'b', 2, 'c']. */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]/g;
  for (const match of path.matchAll(re)) {
    if (match[2] !== undefined) out.push(Number(match[2]));
    else if (match[1] !== undefined) out.push(match[1]);
  }
  return out;
}

/** ['a', 'b', 2, 'c'] → `a.b[2].c`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${segment}` : segment;
  }
  return out;
}

/** The first line of a `yaml` error message, without the ` at line X, column Y` we print ourselves. */
function shortMessage(message: string): string {
  const first = message.split('\n')[0] ?? message;
  return first.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
}

/**
 * Parse YAML (or JSON) text. Returns the syntax problems instead of throwing, each with its line; the
 * excerpt of the file the `yaml` package adds to its messages is left out (it could show a secret).
 */
export function parseYaml(text: string): { problems: YamlSyntaxProblem[]; parsed?: ParsedYaml } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true, prettyErrors: true, uniqueKeys: true });
  const problems: YamlSyntaxProblem[] = doc.errors.map((error) => {
    const pos = error.linePos?.[0] ?? lineCounter.linePos(error.pos[0]);
    return { line: pos.line, column: pos.col, message: shortMessage(error.message), offset: error.pos[0] };
  });
  if (problems.length > 0) return { problems };

  const position = (offset: number | undefined): Position => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };

  const locate = (path: string): Located | undefined => {
    const segments = parsePath(path);
    let node: unknown = doc.contents;
    let where: Position | undefined = node ? position((node as Node).range?.[0]) : undefined;
    const found: PathSegment[] = [];
    for (const segment of segments) {
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && item.key.value === segment,
        );
        if (!pair) break;
        where = position((pair.key as Node).range?.[0]);
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item = node.items[segment];
        if (item === undefined) break;
        where = position((item as Node).range?.[0]);
        node = item;
      } else {
        break;
      }
      found.push(segment);
    }
    if (!where) return undefined;
    return { ...where, found: formatPath(found), exact: found.length === segments.length };
  };

  const plainScalars = new Set<string>();
  const collect = (node: unknown, path: string): void => {
    if (isScalar(node)) {
      if (node.type === 'PLAIN' && typeof node.value === 'string') plainScalars.add(path);
    } else if (isMap(node)) {
      for (const pair of node.items) {
        if (isPair(pair) && isScalar(pair.key)) {
          const key = String(pair.key.value);
          collect(pair.value, path ? `${path}.${key}` : key);
        }
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        collect(item, `${path}[${i}]`);
      });
    }
  };
  collect(doc.contents, '');

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    return { problems: [{ line: 1, column: 1, message: (error as Error).message, offset: 0 }] };
  }
  return { problems, parsed: { value, locate, plainScalars } };
}
