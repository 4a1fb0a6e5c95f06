import { connectionUrlSchema, connectTimeoutMsSchema } from '@faucet/common-postgres';
import { checkpointIntervalSchema, primaryKeysSchema, replicationMethodSchema } from '@faucet/core';
import { z } from 'zod';

/**
 * The config a user writes under `source: { type: postgres, config: … }`. The type is inferred from
 * the schema, never written twice; `secret()` marks the URL (it may carry a password).
 */
export const postgresSourceConfigSchema = z
  .strictObject({
    connection_url: connectionUrlSchema(),
    query: z
      .string()
      .min(1)
      .optional()
      .describe(
        'A SELECT to read; wrapped as a subquery for the keyset filter and order. Use $1… for params',
      ),
    table: z
      .string()
      .min(1)
      .optional()
      .describe('A table or view to read, optionally schema-qualified (`sales.orders`); names are exact'),
    params: z
      .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .default([])
      .describe('Values for $1, $2, … in `query`'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(1000)
      .describe("Rows per page (and per FETCH) (capped by the pipeline's batch size)"),
    replication_method: replicationMethodSchema,
    primary_keys: primaryKeysSchema
      .default([])
      .describe('Columns that identify a row; the keyset tie-breaker (and the FullTable resume key)'),
    checkpoint_interval: checkpointIntervalSchema
      .optional()
      .describe('Rows between checkpoints (default: every page)'),
    lookback: z
      .union([z.string().min(1), z.number().positive()])
      .optional()
      .describe("Incremental only: re-read this much before the stored cursor ('1 hour', or a number)"),
    read_method: z
      .enum(['auto', 'copy', 'cursor'])
      .default('auto')
      .describe(
        'copy: stream `COPY (query) TO STDOUT`; cursor: `FETCH` a page at a time; auto: copy unless `params` are set',
      ),
    max_connections: z.number().int().min(1).max(100).default(2).describe('Size of the connection pool'),
    connect_timeout_ms: connectTimeoutMsSchema(),
  })
  .superRefine((config, ctx) => {
    if ((config.query === undefined) === (config.table === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: config.query === undefined ? ['table'] : ['query'],
        message: 'set exactly one of `query` and `table`',
      });
    }
    if (config.read_method === 'copy' && config.params.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['read_method'],
        message: 'COPY takes no bind parameters: use read_method cursor (or auto) with `params`',
      });
    }
    if (config.table !== undefined && config.params.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['params'], message: '`params` only apply to `query`' });
    }
    const method = config.replication_method;
    if (method.type === 'Incremental' && method.cursor_field.includes('.')) {
      ctx.addIssue({
        code: 'custom',
        path: ['replication_method', 'cursor_field'],
        message: 'a postgres cursor_field is a column of the result, not a dotted path (alias it in `query`)',
      });
    }
    if (config.lookback !== undefined && method.type !== 'Incremental') {
      ctx.addIssue({
        code: 'custom',
        path: ['lookback'],
        message: '`lookback` needs replication_method type Incremental',
      });
    }
  });

/** The validated config (defaults applied). */
export type PostgresSourceConfig = z.infer<typeof postgresSourceConfigSchema>;
/** The config as a user writes it (defaults not yet applied). */
export type PostgresSourceConfigInput = z.input<typeof postgresSourceConfigSchema>;
