import { connectionUrlSchema, connectTimeoutMsSchema } from '@faucet/common-postgres';
import { z } from 'zod';

/** `table` or `schema.table`; each part letters, digits and `_`, at most 63 (PostgreSQL's limit). */
const TABLE_PATTERN = /^[A-Za-z0-9_]{1,63}(\.[A-Za-z0-9_]{1,63})?$/;

/**
 * What a user writes under `state: { type: postgres, config: … }`. `connection_url` is marked secret:
 * it usually carries a password, and faucet redacts it from every error, log line and DLQ envelope.
 */
export const postgresStateStoreConfigSchema = z.strictObject({
  connection_url: connectionUrlSchema(),
  table: z
    .string()
    .regex(TABLE_PATTERN, 'must be a table name (letters, digits, _; at most 63) or schema.table')
    .default('faucet_state')
    .describe('Table holding one row per state key; used exactly as written (case-sensitive)'),
  ensure_table: z
    .boolean()
    .default(true)
    .describe('Create the table on first use if it does not exist (needs CREATE on the schema)'),
  max_connections: z
    .number()
    .int()
    .min(2)
    .max(100)
    .default(5)
    .describe('Size of the connection pool; each held lock keeps one connection for as long as it is held'),
  connect_timeout_ms: connectTimeoutMsSchema().describe(
    'Time limit for opening a connection (or waiting for a free one), in ms',
  ),
});

/** The validated config (defaults applied). */
export type PostgresStateStoreConfig = z.infer<typeof postgresStateStoreConfigSchema>;
/** The config as written (defaults may be left out). */
export type PostgresStateStoreConfigInput = z.input<typeof postgresStateStoreConfigSchema>;

/** The same settings without the connection, for a store built on an injected pool. */
export const postgresStateStorePoolOptionsSchema = postgresStateStoreConfigSchema.omit({
  connection_url: true,
  max_connections: true,
  connect_timeout_ms: true,
});
