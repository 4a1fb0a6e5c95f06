/**
 * Exact ISO-8601 timestamps. `Date.parse` keeps milliseconds only (Postgres sends microseconds) and
 * reads a timestamp without offset as local time; here precision is kept and no offset means UTC.
 */

/** An instant as whole seconds since the epoch plus the fractional digits, trailing zeros removed. */
export interface IsoInstant {
  seconds: number;
  fraction: string;
}

// YYYY-MM-DD, optionally followed by [T or space]hh:mm[:ss[.fraction]][Z | ±hh[[:]mm]]. Groups:
// 1-3 date, 4-6 time, 7 fraction, 8 offset.
const DATE = '(\\d{4})-(\\d{2})-(\\d{2})';
const TIME = '(\\d{2}):(\\d{2})(?::(\\d{2})(?:[.,](\\d+))?)?';
const OFFSET = '([Zz]|[+-]\\d{2}(?::?\\d{2})?)';
export const ISO_TIMESTAMP: RegExp = new RegExp(`^${DATE}(?:[Tt ]${TIME}(?: ?${OFFSET})?)?$`);

export function parseIsoInstant(text: string): IsoInstant | undefined {
  const match = ISO_TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const [hour, minute, second] = [Number(match[4] ?? 0), Number(match[5] ?? 0), Number(match[6] ?? 0)];
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not turn years 0-99 into 1900-1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    return undefined;
  }
  let offsetSeconds = 0;
  const zone = match[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const digits = zone.slice(1).replace(':', '');
    const [oh, om] = [Number(digits.slice(0, 2)), Number(digits.slice(2) || 0)];
    if (oh > 23 || om > 59) return undefined;
    offsetSeconds = (zone.startsWith('-') ? -1 : 1) * (oh * 3600 + om * 60);
  }
  const seconds = date.getTime() / 1000 + hour * 3600 + minute * 60 + second - offsetSeconds;
  return { seconds, fraction: (match[7] ?? '').replace(/0+$/, '') };
}

export function compareIsoInstants(a: IsoInstant, b: IsoInstant): -1 | 0 | 1 {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  const width = Math.max(a.fraction.length, b.fraction.length);
  const fa = a.fraction.padEnd(width, '0');
  const fb = b.fraction.padEnd(width, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

/** Milliseconds since the epoch (digits past the millisecond are dropped). */
export function isoInstantToMs(instant: IsoInstant): number {
  return instant.seconds * 1000 + Number(instant.fraction.slice(0, 3).padEnd(3, '0'));
}
