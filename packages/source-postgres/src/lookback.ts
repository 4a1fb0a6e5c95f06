/**
 * The lookback: a resumed incremental read starts that far before the stored cursor value, so rows
 * committed late with an older cursor value are read again.
 */
import { ConfigError, SourceError } from '@faucet/core';
import type { PostgresPoolClient } from './client.js';
import type { PostgresSourceConfig } from './config.js';
import type { ReadPlan } from './plan.js';
import type { StartPoint } from './query.js';

/** What kind of value a lookback is subtracted as, for a cursor column of the given type. */
function lookbackType(
  cursor: { name: string; typeName: string; category: string },
  lookback: string | number,
): string {
  if (cursor.category === 'N') return 'numeric';
  if (cursor.category === 'T') return 'interval';
  if (cursor.category === 'D') {
    if (typeof lookback === 'string') return 'interval';
    if (cursor.typeName === 'date') return 'integer';
  }
  throw new ConfigError([
    {
      path: 'lookback',
      message:
        `cannot subtract ${JSON.stringify(lookback)} from cursor column "${cursor.name}" of type ` +
        `${cursor.typeName}; use a number for numeric cursors or an interval such as '1 hour' for timestamps`,
    },
  ]);
}

/** With a lookback, a resumed read starts that far before the stored cursor value. */
export async function withLookback(
  client: PostgresPoolClient,
  plan: ReadPlan,
  params: PostgresSourceConfig['params'],
  lookback: string | number | undefined,
  start: StartPoint,
): Promise<StartPoint> {
  const incremental = plan.incremental;
  if (lookback === undefined || !incremental) return start;
  if (start.type !== 'after-key' && start.type !== 'after-cursor') return start;
  const value = start.type === 'after-key' ? (start.values[0] ?? null) : start.value;
  const probe = await client.query({
    text: `SELECT * FROM ${plan.from} AS _faucet_q LIMIT 0`,
    values: params,
  });
  const field = probe.fields.find((f) => f.name === incremental.cursor_field);
  if (!field) {
    throw new SourceError(
      `postgres source: cursor_field "${incremental.cursor_field}" is not a column of ${plan.what}`,
      { connector: 'postgres' },
    );
  }
  const type = await client.query({
    text:
      'SELECT format_type(oid, NULL) AS name, typname::text AS typname, typcategory::text AS category ' +
      'FROM pg_type WHERE oid = $1',
    values: [field.dataTypeID],
  });
  const info = type.rows[0] as { name: string; typname: string; category: string };
  const cast = lookbackType({ name: field.name, typeName: info.typname, category: info.category }, lookback);
  return { type: 'lookback', value, cursorType: info.name, lookback, lookbackType: cast };
}
