/**
 * The statements the sink sends. Identifiers are quoted with pg's `escapeIdentifier`; values are
 * always bind parameters (COPY streams them as data, never as SQL).
 */
import { quoteIdent } from '@faucet/common-postgres';

/** Postgres accepts at most 65535 bind parameters per statement. */
export const MAX_PARAMS = 65_535;

function placeholders(rows: number, columns: number, cast?: readonly string[]): string {
  const tuples: string[] = [];
  let n = 0;
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < columns; c++) {
      n++;
      const type = cast?.[c];
      cells.push(type === undefined ? `$${n}` : `$${n}::${type}`);
    }
    tuples.push(`(${cells.join(', ')})`);
  }
  return tuples.join(', ');
}

/** `INSERT INTO t (a, b) VALUES ($1, $2), …` plus, for an upsert, `ON CONFLICT (key) DO UPDATE …`. */
export function insertSql(
  table: string,
  columns: readonly string[],
  rows: number,
  upsertKey?: readonly string[],
): string {
  const names = columns.map(quoteIdent).join(', ');
  let sql = `INSERT INTO ${table} (${names}) VALUES ${placeholders(rows, columns.length)}`;
  if (upsertKey) {
    const updates = columns.filter((c) => !upsertKey.includes(c));
    const target = upsertKey.map(quoteIdent).join(', ');
    sql +=
      updates.length === 0
        ? ` ON CONFLICT (${target}) DO NOTHING`
        : ` ON CONFLICT (${target}) DO UPDATE SET ${updates
            .map((c) => `${quoteIdent(c)} = EXCLUDED.${quoteIdent(c)}`)
            .join(', ')}`;
  }
  return sql;
}

/** `DELETE FROM t WHERE (k1, k2) IN (($1::type, $2::type), …)`. */
export function deleteSql(
  table: string,
  key: readonly { name: string; typeName: string }[],
  rows: number,
): string {
  const columns = key.map((k) => quoteIdent(k.name)).join(', ');
  const left = key.length === 1 ? columns : `(${columns})`;
  const tuples = placeholders(
    rows,
    key.length,
    key.map((k) => k.typeName),
  );
  return `DELETE FROM ${table} WHERE ${left} IN (${tuples})`;
}

/** `COPY t (a, b) FROM STDIN` in text format (tab-separated, `\N` for NULL, backslash escapes). */
export function copySql(table: string, columns: readonly string[]): string {
  return `COPY ${table} (${columns.map(quoteIdent).join(', ')}) FROM STDIN WITH (FORMAT text)`;
}

export const commitTokenTable = (schema: string): string =>
  `${quoteIdent(schema)}.${quoteIdent('_faucet_commit_token')}`;

export const createCommitTokenSql = (schema: string): string =>
  `CREATE TABLE IF NOT EXISTS ${commitTokenTable(schema)} ` +
  '(scope text PRIMARY KEY, token text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())';

export const upsertCommitTokenSql = (schema: string): string =>
  `INSERT INTO ${commitTokenTable(schema)} (scope, token, updated_at) VALUES ($1, $2, now()) ` +
  'ON CONFLICT (scope) DO UPDATE SET token = EXCLUDED.token, updated_at = EXCLUDED.updated_at';

export const selectCommitTokenSql = (schema: string): string =>
  `SELECT token FROM ${commitTokenTable(schema)} WHERE scope = $1`;
