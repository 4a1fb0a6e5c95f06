/**
 * The read's snapshot: a read-only REPEATABLE READ transaction whose session settings fix the text
 * forms the value parsers expect (UTC, ISO dates, ISO 8601 intervals, hex bytea, exact floats).
 */
import type { queryTypes } from '@faucet/common-postgres';
import type { PostgresPoolClient } from './client.js';

export type ParserTypes = ReturnType<typeof queryTypes>;

const SESSION_SETUP =
  "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; " +
  "SET LOCAL IntervalStyle = 'iso_8601'; SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 3";

export async function beginSnapshot(client: PostgresPoolClient): Promise<void> {
  await client.query({ text: `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; ${SESSION_SETUP}` });
}
