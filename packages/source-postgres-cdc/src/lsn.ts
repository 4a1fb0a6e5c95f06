/** PostgreSQL log sequence numbers: `16/B374D848` (two hex halves) <-> bigint. */

const LSN = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/;

export function isLsn(value: unknown): value is string {
  return typeof value === 'string' && LSN.test(value);
}

export function parseLsn(text: string): bigint {
  const match = LSN.exec(text);
  if (!match) throw new TypeError(`not a PostgreSQL LSN: ${JSON.stringify(text)}`);
  return (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`);
}

/** The canonical text form: upper-case hex halves without leading zeros (as `pg_lsn` prints it). */
export function formatLsn(value: bigint): string {
  if (value < 0n) throw new RangeError('an LSN cannot be negative');
  return `${(value >> 32n).toString(16).toUpperCase()}/${(value & 0xffffffffn).toString(16).toUpperCase()}`;
}

export function normaliseLsn(text: string): string {
  return formatLsn(parseLsn(text));
}
