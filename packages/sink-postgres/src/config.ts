import { connectionUrlSchema, connectTimeoutMsSchema } from '@faucet/common-postgres';
import { z } from 'zod';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/**
 * The config a user writes under `sink: { type: postgres, config: … }`. The type is inferred from the
 * schema, never written twice; `secret()` marks the URL (it may carry a password).
 */
export const postgresSinkConfigSchema = z
  .strictObject({
    connection_url: connectionUrlSchema(),
    table: z
      .string()
      .min(1)
      .describe('Target table, optionally schema-qualified (`sales.orders`); names are exact'),
    write_method: z
      .enum(['insert', 'copy'])
      .default('insert')
      .describe('insert: multi-row INSERT; copy: COPY FROM STDIN (append only)'),
    write_mode: z
      .enum(['append', 'upsert', 'delete'])
      .default('append')
      .describe('append rows, upsert them by key (INSERT … ON CONFLICT), or delete rows by key'),
    key: z
      .array(z.string().min(1))
      .refine((keys) => new Set(keys).size === keys.length, 'key columns must not repeat')
      .default([])
      .describe('Key columns (record fields of the same name); required for upsert and delete'),
    delete_marker: z
      .strictObject({
        field: z.string().min(1).describe('Record field that marks a delete'),
        values: z
          .array(scalar)
          .min(1)
          .optional()
          .describe('Values of `field` that mean "delete" (default: [true])'),
      })
      .optional()
      .describe('upsert mode: records carrying the marker delete their key instead of upserting'),
    column_mapping: z
      .union([
        z.literal('auto'),
        z.strictObject({ jsonb: z.string().min(1).describe('The jsonb column that holds the record') }),
      ])
      .default('auto')
      .describe('auto: record fields onto same-named columns; {jsonb: col}: the whole record in one column'),
    create_table: z
      .boolean()
      .default(false)
      .describe('Create the table from the first batch when it does not exist'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .describe('Rows per write (one transaction)'),
    max_connections: z.number().int().min(1).max(100).default(5).describe('Size of the connection pool'),
    connect_timeout_ms: connectTimeoutMsSchema(),
  })
  .superRefine((config, ctx) => {
    if (config.write_mode !== 'append' && config.key.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: `write_mode ${config.write_mode} needs the key columns`,
      });
    }
    if (config.write_method === 'copy' && config.write_mode !== 'append') {
      ctx.addIssue({
        code: 'custom',
        path: ['write_method'],
        message: 'copy only appends; use write_method insert for upsert and delete',
      });
    }
    if (config.delete_marker !== undefined && config.write_mode !== 'upsert') {
      ctx.addIssue({
        code: 'custom',
        path: ['delete_marker'],
        message: 'delete_marker needs write_mode upsert (write_mode delete deletes every record)',
      });
    }
    const mapping = config.column_mapping;
    if (mapping !== 'auto' && config.key.includes(mapping.jsonb)) {
      ctx.addIssue({
        code: 'custom',
        path: ['column_mapping', 'jsonb'],
        message: 'the jsonb column cannot also be a key column',
      });
    }
  });

/** The validated config (defaults applied). */
export type PostgresSinkConfig = z.infer<typeof postgresSinkConfigSchema>;
export type PostgresSinkConfigInput = z.input<typeof postgresSinkConfigSchema>;
