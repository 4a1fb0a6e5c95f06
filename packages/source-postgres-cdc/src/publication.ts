/**
 * The publication: created when the config lists its tables, warned about when it publishes nothing
 * or a table whose UPDATEs and DELETEs the server would refuse; and its tables as discovered streams.
 */
import type { DiscoveredStream } from '@faucet/core';
import type pg from 'pg';
import {
  createPublication,
  type PublishedTable,
  publicationExists,
  publishedTables,
  tableKey,
} from './catalog.js';
import { type CdcEnv, CONNECTOR } from './connection.js';

/** The publication exists (created when configured to) and names at least one table. */
export async function preparePublication(env: CdcEnv, admin: pg.Client): Promise<PublishedTable[]> {
  const { config, logger } = env;
  if (!(await publicationExists(admin, config.publication_name))) {
    if (!config.create_publication) {
      throw env.fail(
        `publication "${config.publication_name}" does not exist; create it ` +
          `(CREATE PUBLICATION ${config.publication_name} FOR TABLE …) or list its tables in create_publication`,
      );
    }
    try {
      await createPublication(admin, config.publication_name, config.create_publication);
    } catch (error) {
      if (!(error instanceof Error && /already exists/.test(error.message))) throw error;
    }
    logger.info(`${CONNECTOR}: created publication`, {
      publication: config.publication_name,
      tables: config.create_publication,
    });
  }
  const tables = await publishedTables(admin, config.publication_name);
  if (tables.length === 0) {
    logger.warn(`${CONNECTOR}: publication "${config.publication_name}" has no tables; nothing will stream`);
  }
  for (const table of tables) {
    const { columns, identity } = await tableKey(admin, table);
    if (columns.length === 0 && identity !== 'f') {
      logger.warn(
        `${CONNECTOR}: table ${table.name} has no primary key and REPLICA IDENTITY is not FULL: ` +
          `the server refuses its UPDATEs and DELETEs while it is published; ALTER TABLE ${table.name} REPLICA IDENTITY FULL`,
      );
    }
  }
  return tables;
}

/** Each published table as a stream of change records. */
export async function describePublishedTables(
  admin: pg.Client,
  publication: string,
): Promise<DiscoveredStream[]> {
  const tables = await publishedTables(admin, publication);
  const out: DiscoveredStream[] = [];
  for (const table of tables) {
    const { columns } = await tableKey(admin, table);
    out.push({
      name: table.name,
      primaryKeys: columns,
      schema: {
        type: 'object',
        properties: {
          op: { enum: ['insert', 'update', 'delete', 'truncate', 'read'] },
          schema: { type: 'string' },
          table: { type: 'string' },
          lsn: { type: ['string', 'null'] },
          commit_ts: { type: ['string', 'null'], format: 'date-time' },
          key: { type: ['object', 'null'] },
          before: { type: ['object', 'null'] },
          after: { type: ['object', 'null'] },
        },
        required: ['op', 'schema', 'table', 'lsn', 'commit_ts', 'key', 'before', 'after'],
      },
    });
  }
  return out;
}
