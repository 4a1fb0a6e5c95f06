/**
 * Which keys a source reads: `prefix` narrows the listing, `glob` (matched against the whole key,
 * `*` within one path segment, `**` across them, `{a,b}`, `[0-9]`) picks keys from it. The listing
 * prefix is the longer of `prefix` and the glob's literal start, so `data/2026-*` lists only
 * `data/2026-` keys.
 */
import picomatch from 'picomatch';

export interface KeyFilter {
  /** The ListObjectsV2 prefix. */
  listPrefix: string;
  matches(key: string): boolean;
}

export function keyFilter(prefix: string, glob: string | undefined): KeyFilter {
  if (glob === undefined) return { listPrefix: prefix, matches: (key) => key.startsWith(prefix) };
  const scan = picomatch.scan(glob);
  // The literal part up to the first glob character (picomatch's base stops at a segment boundary).
  const literal = scan.isGlob ? glob.slice(0, glob.search(/[*?[{(!]/)) : glob;
  const listPrefix = literal.startsWith(prefix) ? literal : prefix;
  const test = picomatch(glob, { dot: true });
  return { listPrefix, matches: (key) => key.startsWith(prefix) && test(key) };
}
