/**
 * Part keys from the key template. `{seq}` makes keys unique: in effectively-once delivery it is the
 * commit position of the part's first page (`0000000042-0000000000`), so a replayed page maps to
 * the key it had; otherwise the run's start time and a counter (`20261207T013500Z-k3x9-000001`),
 * so runs never collide. Dates are UTC, taken when a part opens.
 */
const PLACEHOLDERS = new Set(['pipeline', 'row', 'yyyy', 'mm', 'dd', 'hh', 'seq', 'ext']);

export function templateIssue(template: string): string | undefined {
  for (const match of template.matchAll(/\{([^}]*)\}/g)) {
    if (!PLACEHOLDERS.has(match[1] as string)) {
      return `unknown placeholder {${match[1]}}; use ${[...PLACEHOLDERS].map((p) => `{${p}}`).join(' ')}`;
    }
  }
  if (!template.includes('{seq}'))
    return 'the template must contain {seq}, or parts would overwrite each other';
  if (template.startsWith('/')) return 'a key does not start with /';
  return undefined;
}

export interface KeyParts {
  pipeline: string;
  row: string;
  seq: string;
  ext: string;
  now: Date;
}

const pad = (n: number) => String(n).padStart(2, '0');

export function renderKey(prefix: string, template: string, parts: KeyParts): string {
  const values: Record<string, string> = {
    pipeline: parts.pipeline,
    row: parts.row,
    yyyy: String(parts.now.getUTCFullYear()),
    mm: pad(parts.now.getUTCMonth() + 1),
    dd: pad(parts.now.getUTCDate()),
    hh: pad(parts.now.getUTCHours()),
    seq: parts.seq,
    ext: parts.ext,
  };
  return prefix + template.replace(/\{([a-z]+)\}/g, (_, name: string) => values[name] ?? '');
}

/**
 * The literal start of every key (prefix + template up to its first placeholder other than
 * {pipeline} and {row}), and whether it names both: then only this pipeline row writes there.
 */
export function keyPrefix(
  prefix: string,
  template: string,
  pipeline: string,
  row: string,
): {
  prefix: string;
  owned: boolean;
} {
  const cut = template.search(/\{(?!pipeline\}|row\})[a-z]+\}/);
  const head = cut < 0 ? template : template.slice(0, cut);
  return {
    prefix: prefix + head.replaceAll('{pipeline}', pipeline).replaceAll('{row}', row),
    owned: head.includes('{pipeline}') && head.includes('{row}'),
  };
}

/** `{seq}` of an effectively-once part: the commit position of its first page. */
export function tokenSeq(token: string): string {
  const match = /^faucet1:(\d+)\.(\d+)#/.exec(token);
  if (match) return `${match[1]}-${match[2]}`;
  // Another token shape: a stable, key-safe digest of it.
  let h = 0x811c9dc5;
  for (let i = 0; i < token.length; i++) h = Math.imul(h ^ token.charCodeAt(i), 0x01000193) >>> 0;
  return `t${h.toString(16).padStart(8, '0')}`;
}

export function runSeq(started: Date, random: string, counter: number): string {
  const stamp = started
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${random}-${String(counter).padStart(6, '0')}`;
}
