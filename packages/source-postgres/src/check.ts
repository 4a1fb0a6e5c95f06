/** `check()`: the table exists and may be read, and the result has every keyset column. */
import { parseQualifiedName, quoteQualified } from '@faucet/common-postgres';
import { SourceError } from '@faucet/core';
import type { PostgresPoolClient } from './client.js';
import type { PostgresSourceConfig } from './config.js';
import type { ReadPlan } from './plan.js';

export async function checkReadable(
  client: PostgresPoolClient,
  plan: ReadPlan,
  config: PostgresSourceConfig,
  server: string,
): Promise<void> {
  const { table } = config;
  const { from, what, keyset } = plan;
  if (table !== undefined) {
    const name = quoteQualified(parseQualifiedName(table));
    const found = await client.query({
      text:
        'SELECT to_regclass($1) IS NOT NULL AS found, CASE WHEN to_regclass($1) IS NULL THEN NULL ' +
        "ELSE has_table_privilege(to_regclass($1), 'SELECT') END AS allowed",
      values: [name],
    });
    const row = found.rows[0] as { found: boolean; allowed: boolean | null };
    if (!row.found) {
      throw new SourceError(`postgres source (${server}): table ${JSON.stringify(table)} does not exist`, {
        connector: 'postgres',
      });
    }
    if (row.allowed === false) {
      throw new SourceError(
        `postgres source (${server}): no SELECT privilege on table ${JSON.stringify(table)}`,
        { connector: 'postgres' },
      );
    }
  }
  const probe = await client.query({
    text: `SELECT * FROM ${from} AS _faucet_q LIMIT 0`,
    values: config.params,
  });
  const columns = new Set(probe.fields.map((f) => f.name));
  const missing = keyset.columns.filter((c) => !columns.has(c));
  if (missing.length > 0) {
    throw new SourceError(
      `postgres source (${server}): ${what} has no column ` +
        `${missing.map((c) => JSON.stringify(c)).join(', ')} ` +
        '(named in cursor_field or primary_keys)',
      { connector: 'postgres' },
    );
  }
}
