/**
 * Date parsing for `cast: timestamp`. `Date.parse` is not used on its own: outside ISO-8601 it
 * accepts nearly anything (V8 reads "1" as 2001-01-01) and it reads a date-time without an offset in
 * the machine's time zone, so the same pipeline would give different rows on different hosts. Here
 * a date-time without an offset is UTC.
 */

// 2024-05-01, 2024-05-01T10:20, 2024-05-01 10:20:30.123456+02:00, ...T10:20:30Z, ...+0200, ...+02
const ISO_8601 = new RegExp(
  String.raw`^(\d{4})-(\d{2})-(\d{2})` +
    String.raw`(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?` +
    String.raw`(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$`,
);
// Wed, 01 May 2024 10:20:30 +0200 (the day name is optional; the zone is required)
const RFC_2822 = new RegExp(
  String.raw`^(?:[A-Za-z]{3},\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})` +
    String.raw`\s+(\d{2}):(\d{2})(?::(\d{2}))?\s+(GMT|UTC?|Z|[+-]\d{4})$`,
);
const EPOCH_MS = /^[+-]?\d+$/;

const MONTHS = new Map(
  ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'].map((m, i) => [m, i]),
);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, monthIndex: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return monthIndex === 1 && leap ? 29 : (DAYS_IN_MONTH[monthIndex] ?? 0);
}

/** Epoch ms of a UTC calendar time, or NaN when a field is out of range. */
function utcMillis(
  year: number,
  monthIndex: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
): number {
  if (monthIndex < 0 || monthIndex > 11 || day < 1 || day > daysInMonth(year, monthIndex)) return Number.NaN;
  if (hour > 23 || minute > 59 || second > 59) return Number.NaN;
  const time = new Date(Date.UTC(2000, monthIndex, day, hour, minute, second, ms));
  // Date.UTC maps years 0-99 to 1900-1999; setting the year afterwards keeps it literal.
  time.setUTCFullYear(year);
  return time.getTime();
}

function offsetMinutes(sign: string | undefined, hours: string | undefined, minutes: string | undefined) {
  if (sign === undefined || hours === undefined) return 0;
  const h = Number(hours);
  const m = minutes === undefined ? 0 : Number(minutes);
  if (h > 23 || m > 59) return Number.NaN;
  return (sign === '-' ? -1 : 1) * (h * 60 + m);
}

/**
 * Epoch milliseconds of a date string, or NaN. Accepts ISO-8601 / RFC 3339 dates and date-times
 * (no offset means UTC; fractions beyond milliseconds are truncated), RFC 2822 dates with a zone,
 * and integer strings, read as epoch milliseconds.
 */
export function parseTimestamp(input: string): number {
  const text = input.trim();
  if (EPOCH_MS.test(text)) return Number(text);

  const iso = ISO_8601.exec(text);
  if (iso) {
    const [, y, mo, d, h, mi, s, frac, , sign, oh, om] = iso;
    const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
    const [hour, minute, second] = [Number(h ?? 0), Number(mi ?? 0), Number(s ?? 0)];
    const local = utcMillis(Number(y), Number(mo) - 1, Number(d), hour, minute, second, ms);
    return local - offsetMinutes(sign, oh, om) * 60_000;
  }

  const rfc = RFC_2822.exec(text);
  if (rfc) {
    const [, d, monthName, y, h, mi, s, zone] = rfc;
    const month = MONTHS.get((monthName as string).toLowerCase());
    if (month === undefined) return Number.NaN;
    const local = utcMillis(Number(y), month, Number(d), Number(h), Number(mi), Number(s ?? 0), 0);
    const numeric = zone !== undefined && /^[+-]/.test(zone);
    const offset = numeric ? offsetMinutes(zone.slice(0, 1), zone.slice(1, 3), zone.slice(3, 5)) : 0;
    return local - offset * 60_000;
  }
  return Number.NaN;
}
