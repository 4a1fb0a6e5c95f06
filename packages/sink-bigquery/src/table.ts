/**
 * The target table's schema: read (`tables.get`), created from the first page or an explicit schema
 * (`tables.insert`, with partitioning and clustering), widened with new NULLABLE columns
 * (`tables.patch`, what a load job's ALLOW_FIELD_ADDITION does), and dropped (staging tables).
 */
import { SinkError } from '@faucet/core';
import type { BigQuerySinkConfig } from './config.js';
import type { SinkContext, TableRef } from './context.js';
import { apiFailure, CONNECTOR } from './errors.js';
import type { TableField } from './schema.js';

interface TableResource {
  schema?: { fields?: TableField[] };
  creationTime?: string;
}

/** A table's schema and when it was created (ms since the epoch; 0 when BigQuery did not say). */
export interface TableInfo {
  fields: TableField[];
  createdAt: number;
}

const infoOf = (table: TableResource, fallback: TableField[] = []): TableInfo => ({
  fields: table.schema?.fields ?? fallback,
  createdAt: Number(table.creationTime ?? 0) || 0,
});

export const tablePath = (ref: TableRef): string =>
  `/datasets/${encodeURIComponent(ref.datasetId)}/tables/${encodeURIComponent(ref.tableId)}`;

const displayOf = (ref: TableRef): string => `${ref.projectId}.${ref.datasetId}.${ref.tableId}`;

const statusOf = (error: unknown): number | undefined => apiFailure(error)?.status;

/**
 * The table's fields, or undefined when the table does not exist. BigQuery answers 404 for a
 * missing table, dataset or project alike: the dataset is looked up to tell them apart.
 */
export async function fetchTable(ctx: SinkContext, ref: TableRef): Promise<TableInfo | undefined> {
  return ctx.attempt(`reading the schema of table ${displayOf(ref)}`, async (api) => {
    try {
      return infoOf(await api.call<TableResource>('GET', tablePath(ref)));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
    try {
      await api.call('GET', `/datasets/${encodeURIComponent(ref.datasetId)}`);
      return undefined;
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
      throw new SinkError(
        ctx.redactor.redact(
          `bigquery sink: dataset ${ref.projectId}:${ref.datasetId} of table ${displayOf(ref)} was not found ` +
            `(${apiFailure(error)?.message}); check project_id and dataset_id, and create the dataset first`,
        ),
        { connector: CONNECTOR, cause: error },
      );
    }
  });
}

export interface CreateOptions {
  partitioning?: BigQuerySinkConfig['partitioning'];
  clustering?: string[] | undefined;
  /** Let BigQuery delete the table at this time (ms since the epoch): staging tables of crashed runs. */
  expiresAt?: number;
}

/** Create the table; when someone else created it first, read theirs. */
export async function createTable(
  ctx: SinkContext,
  ref: TableRef,
  fields: TableField[],
  options: CreateOptions = {},
): Promise<TableInfo> {
  const body = {
    tableReference: ref,
    schema: { fields },
    ...(options.partitioning
      ? {
          timePartitioning: {
            type: options.partitioning.type,
            ...(options.partitioning.field ? { field: options.partitioning.field } : {}),
            ...(options.partitioning.expiration_ms
              ? { expirationMs: String(options.partitioning.expiration_ms) }
              : {}),
          },
        }
      : {}),
    ...(options.clustering ? { clustering: { fields: options.clustering } } : {}),
    ...(options.expiresAt ? { expirationTime: String(options.expiresAt) } : {}),
  };
  const action = `creating table ${displayOf(ref)}`;
  const created = await ctx.attempt(action, async (api) => {
    try {
      const path = `/datasets/${encodeURIComponent(ref.datasetId)}/tables`;
      return infoOf(await api.call<TableResource>('POST', path, { body }), fields);
    } catch (error) {
      if (statusOf(error) === 409) return undefined;
      if (statusOf(error) === 404) {
        throw new SinkError(
          ctx.redactor.redact(
            `bigquery sink: cannot create table ${displayOf(ref)}: dataset ${ref.projectId}:${ref.datasetId} ` +
              `does not exist or project ${ref.projectId} is not accessible (${apiFailure(error)?.message}); ` +
              'create the dataset first and check project_id and dataset_id',
          ),
          { connector: CONNECTOR, cause: error },
        );
      }
      throw error;
    }
  });
  if (created) return created;
  const existing = await fetchTable(ctx, ref);
  if (!existing) throw new SinkError(`bigquery sink: table ${displayOf(ref)} vanished after it was created`);
  return existing;
}

/** Append NULLABLE columns to the table's schema; returns the new full field list. */
export async function addColumns(
  ctx: SinkContext,
  ref: TableRef,
  current: readonly TableField[],
  added: readonly TableField[],
): Promise<TableField[]> {
  const action = `adding columns ${added.map((f) => f.name).join(', ')} to table ${displayOf(ref)}`;
  const table = await ctx.attempt(action, (api) =>
    api.call<TableResource>('PATCH', tablePath(ref), {
      body: {
        schema: {
          fields: [
            ...current,
            ...added.map((f) => ({ ...f, mode: f.mode === 'REPEATED' ? 'REPEATED' : 'NULLABLE' })),
          ],
        },
      },
    }),
  );
  return table.schema?.fields ?? [...current, ...added];
}

/** Drop a table; one that is already gone is fine. */
export async function dropTable(ctx: SinkContext, ref: TableRef): Promise<void> {
  await ctx.attempt(`dropping table ${displayOf(ref)}`, async (api) => {
    try {
      await api.call('DELETE', tablePath(ref));
    } catch (error) {
      if (statusOf(error) !== 404) throw error;
    }
  });
}
