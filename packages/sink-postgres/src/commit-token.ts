/**
 * Effectively-once writes: the `_faucet_commit_token` table, in the target table's schema, holds the
 * last token committed per scope, written in the same transaction as the page it stands for.
 */
import { CONNECTOR } from '@faucet/common-postgres';
import { type CommitScope, type RowFailure, SinkError } from '@faucet/core';
import type pg from 'pg';
import {
  commitTokenTable,
  createCommitTokenSql,
  selectCommitTokenSql,
  upsertCommitTokenSql,
} from './statements.js';
import { currentSchema, findTable, isAlreadyExists } from './table.js';
import type { Target } from './target.js';

export interface CommitTokens {
  /** The schema holding `_faucet_commit_token`: the target table's. */
  schema(client: pg.PoolClient): Promise<string>;
  /** Create the token table once per sink (another writer may win the race). */
  ensureTable(client: pg.PoolClient, schema: string): Promise<void>;
  /** Record `commit` inside the caller's transaction (or alone, for an empty page). */
  store(client: pg.PoolClient, schema: string, commit: CommitScope): Promise<void>;
  /** The last token committed for `scope`, or undefined if none was (or the table does not exist). */
  last(client: pg.PoolClient, scope: string): Promise<string | undefined>;
}

export function createCommitTokens(parts: readonly string[], target: () => Target | undefined): CommitTokens {
  let tableReady = false;

  async function schema(client: pg.PoolClient): Promise<string> {
    const known = target();
    if (known) return known.schema;
    if (parts.length === 2) return parts[0] as string;
    return (await findTable(client, parts))?.schema ?? (await currentSchema(client));
  }

  async function ensureTable(client: pg.PoolClient, schemaName: string): Promise<void> {
    if (tableReady) return;
    try {
      await client.query(createCommitTokenSql(schemaName));
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
    tableReady = true;
  }

  async function store(client: pg.PoolClient, schemaName: string, commit: CommitScope): Promise<void> {
    await client.query({ text: upsertCommitTokenSql(schemaName), values: [commit.scope, commit.token] });
  }

  async function last(client: pg.PoolClient, scope: string): Promise<string | undefined> {
    const schemaName = await schema(client);
    const exists = await client.query<{ found: boolean }>({
      text: 'SELECT to_regclass($1) IS NOT NULL AS found',
      values: [commitTokenTable(schemaName)],
    });
    if (!exists.rows[0]?.found) return undefined;
    const { rows } = await client.query<{ token: string }>({
      text: selectCommitTokenSql(schemaName),
      values: [scope],
    });
    return rows[0]?.token;
  }

  return { schema, ensureTable, store, last };
}

/** Effectively-once pages commit whole or not at all: a bad row fails the page, nothing is written. */
export function pageRejected(display: string, failures: readonly RowFailure[]): SinkError {
  const first = failures[0];
  const where = first && first.index >= 0 ? `row ${first.index}` : 'a row';
  const message = first ? (first.error instanceof Error ? first.error.message : first.error) : '';
  return new SinkError(
    `postgres sink: ${display} rejected ${where} of an effectively-once page, so none of it was written ` +
      `(${message})`,
    { connector: CONNECTOR, retryable: false },
  );
}
