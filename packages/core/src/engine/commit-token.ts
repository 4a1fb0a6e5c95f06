/**
 * Effectively-once commit tokens. The sink stores the token atomically with the rows of a page
 * (`writeIdempotent`), so after a crash the engine can tell exactly which pages the sink already has.
 *
 * A token names a position: `seq` counts checkpoint pages, `sub` counts pages written since the last
 * checkpoint, and `bookmark` is the bookmark to resume from to reach that position. Tokens compare as
 * strings in position order (both numbers are zero-padded), so a sink can keep the max if it wants.
 */
import type { JsonValue } from '../types.js';

export interface CommitPosition {
  seq: number;
  sub: number;
  /** The checkpoint bookmark the position counts from (undefined before the first checkpoint). */
  bookmark: JsonValue | undefined;
}

const PREFIX = 'faucet1:';

export function encodeCommitToken(position: CommitPosition): string {
  const seq = String(position.seq).padStart(16, '0');
  const sub = String(position.sub).padStart(10, '0');
  const bookmark = position.bookmark === undefined ? '{}' : JSON.stringify({ b: position.bookmark });
  return `${PREFIX}${seq}.${sub}#${bookmark}`;
}

/** Parse a token written by `encodeCommitToken`; undefined for anything else. */
export function decodeCommitToken(token: string | undefined | null): CommitPosition | undefined {
  if (typeof token !== 'string' || !token.startsWith(PREFIX)) return undefined;
  const hash = token.indexOf('#');
  if (hash < 0) return undefined;
  const [seqText, subText] = token.slice(PREFIX.length, hash).split('.');
  const seq = Number(seqText);
  const sub = Number(subText);
  if (!Number.isSafeInteger(seq) || !Number.isSafeInteger(sub)) return undefined;
  try {
    const parsed = JSON.parse(token.slice(hash + 1)) as { b?: JsonValue };
    return { seq, sub, bookmark: 'b' in parsed ? parsed.b : undefined };
  } catch {
    return undefined;
  }
}

export function comparePositions(
  a: Pick<CommitPosition, 'seq' | 'sub'>,
  b: Pick<CommitPosition, 'seq' | 'sub'>,
) {
  return a.seq - b.seq || a.sub - b.sub;
}
