/**
 * The small JSONPath subset the source needs: `$`, `$.a.b`, `$['a']`, `$.a[0]`, `$.a[*]`, `$.a[*].b`.
 * `select` returns every match; `first` the first one.
 */
type Step = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'all' };

const cache = new Map<string, Step[]>();

export function parsePath(path: string): Step[] {
  const cached = cache.get(path);
  if (cached) return cached;
  let rest = path.trim();
  if (rest.startsWith('$')) rest = rest.slice(1);
  const steps: Step[] = [];
  const token = /^(?:\.([A-Za-z_$][\w$-]*)|\[\*\]|\.\*|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\])/;
  while (rest.length > 0) {
    const match = token.exec(rest);
    if (!match) throw new Error(`unsupported JSONPath ${JSON.stringify(path)} near ${JSON.stringify(rest)}`);
    if (match[1] !== undefined) steps.push({ kind: 'key', key: match[1] });
    else if (match[2] !== undefined) steps.push({ kind: 'index', index: Number(match[2]) });
    else if (match[3] !== undefined) steps.push({ kind: 'key', key: match[3] });
    else if (match[4] !== undefined) steps.push({ kind: 'key', key: match[4] });
    else steps.push({ kind: 'all' });
    rest = rest.slice(match[0].length);
  }
  cache.set(path, steps);
  return steps;
}

export function isValidPath(path: string): boolean {
  try {
    parsePath(path);
    return true;
  } catch {
    return false;
  }
}

export function select(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const step of parsePath(path)) {
    const next: unknown[] = [];
    for (const item of current) {
      if (step.kind === 'all') {
        if (Array.isArray(item)) next.push(...item);
        else if (item !== null && typeof item === 'object') next.push(...Object.values(item));
      } else if (step.kind === 'index') {
        if (Array.isArray(item) && step.index < item.length) next.push(item[step.index]);
      } else if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
        if (Object.hasOwn(item, step.key)) next.push((item as Record<string, unknown>)[step.key]);
      }
    }
    current = next;
  }
  return current;
}

export function first(value: unknown, path: string): unknown {
  return select(value, path)[0];
}

/** Whether the path can match more than one value (it has a `[*]`). */
export function isMulti(path: string): boolean {
  return parsePath(path).some((s) => s.kind === 'all');
}
