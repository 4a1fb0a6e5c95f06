/**
 * Sending prepared units: multi-row INSERT / upsert / DELETE statements within the bind-parameter
 * limit, or COPY for plain inserts; and, after a data error, the binary search inside SAVEPOINTs
 * that finds the bad rows and writes all the others.
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ServerError } from '@faucet/common-postgres';
import type { RowFailure, SinkError } from '@faucet/core';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { isRowDataError } from './client.js';
import type { PostgresSinkConfig } from './config.js';
import type { PreparedRow, Unit } from './rows.js';
import { copySql, deleteSql, insertSql, MAX_PARAMS } from './statements.js';
import type { Target } from './target.js';
import { copyText } from './values.js';

/** Characters of COPY text sent per chunk: a page of ordinary rows goes in one message. */
const COPY_CHUNK_CHARS = 1 << 20;

async function copyRows(client: pg.PoolClient, sql: string, rows: readonly PreparedRow[]): Promise<void> {
  // Few, large writes: every write to the socket is a system call that wakes the server.
  function* chunks(): Generator<string> {
    let lines: string[] = [];
    let size = 0;
    for (const row of rows) {
      const line = `${row.values.map(copyText).join('\t')}\n`;
      lines.push(line);
      size += line.length;
      if (size >= COPY_CHUNK_CHARS) {
        yield lines.join('');
        lines = [];
        size = 0;
      }
    }
    if (lines.length > 0) yield lines.join('');
  }
  await pipeline(Readable.from(chunks()), client.query(copyFrom(sql)));
}

export interface UnitWriter {
  /** Whether `unit` goes out as one statement (atomic by itself, needing no transaction around it). */
  oneStatement(unit: Unit): boolean;
  /** Send a unit's rows; a data error fails the whole unit. */
  run(client: pg.PoolClient, t: Target, unit: Unit): Promise<void>;
  /** Send a unit inside a savepoint, pushing each row the server rejects onto `failures`. */
  isolate(client: pg.PoolClient, t: Target, unit: Unit, failures: RowFailure[]): Promise<void>;
}

export function createUnitWriter(options: {
  writeMethod: PostgresSinkConfig['write_method'];
  key: PostgresSinkConfig['key'];
  /** The row failure for a row the server rejected. */
  rejected: (error: ServerError) => SinkError;
}): UnitWriter {
  const { writeMethod, key, rejected } = options;

  const isCopy = (unit: Unit) => unit.action === 'insert' && writeMethod === 'copy';
  const rowsPerStatement = (unit: Unit) => Math.max(1, Math.floor(MAX_PARAMS / unit.columns.length));

  async function run(client: pg.PoolClient, t: Target, unit: Unit): Promise<void> {
    if (isCopy(unit)) {
      await copyRows(client, copySql(t.qualified, unit.columns), unit.rows);
      return;
    }
    const per = rowsPerStatement(unit);
    for (let i = 0; i < unit.rows.length; i += per) {
      const chunk = unit.rows.slice(i, i + per);
      const text =
        unit.action === 'delete'
          ? deleteSql(t.qualified, t.keyColumns, chunk.length)
          : insertSql(t.qualified, unit.columns, chunk.length, unit.action === 'upsert' ? key : undefined);
      await client.query({ text, values: chunk.flatMap((r) => r.values) });
    }
  }

  /** Write a unit inside a savepoint; on a data error split it in halves until the bad rows are alone. */
  async function isolate(
    client: pg.PoolClient,
    t: Target,
    unit: Unit,
    failures: RowFailure[],
  ): Promise<void> {
    await client.query('SAVEPOINT faucet_rows');
    try {
      await run(client, t, unit);
      await client.query('RELEASE SAVEPOINT faucet_rows');
      return;
    } catch (error) {
      if (!isRowDataError(error)) throw error;
      await client.query('ROLLBACK TO SAVEPOINT faucet_rows');
      await client.query('RELEASE SAVEPOINT faucet_rows');
      const [only] = unit.rows;
      if (unit.rows.length === 1 && only) {
        failures.push({ index: only.index, error: rejected(error) });
        return;
      }
    }
    const mid = Math.ceil(unit.rows.length / 2);
    await isolate(client, t, { ...unit, rows: unit.rows.slice(0, mid) }, failures);
    await isolate(client, t, { ...unit, rows: unit.rows.slice(mid) }, failures);
  }

  return {
    oneStatement: (unit) => isCopy(unit) || unit.rows.length <= rowsPerStatement(unit),
    run,
    isolate,
  };
}
