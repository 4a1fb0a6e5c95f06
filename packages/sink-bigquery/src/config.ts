import { retryPolicySchema, secret } from '@faucet/core';
import { z } from 'zod';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** BigQuery's own ids: projects `my-project-123`, datasets and tables `[A-Za-z0-9_]`. */
const PROJECT_ID = /^[a-z0-9.:-]{1,128}$/i;
const DATASET_ID = /^[A-Za-z0-9_]{1,1024}$/;

/** How the sink authenticates. `none` sends no credentials: for emulators and tests only. */
export const authSchema = z.discriminatedUnion('type', [
  z
    .strictObject({ type: z.literal('application_default') })
    .describe(
      'Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, gcloud, or the metadata server',
    ),
  z
    .strictObject({
      type: z.literal('service_account_key_path'),
      path: z.string().min(1).describe('Path of a service-account key file (JSON)'),
    })
    .describe('A service-account key file'),
  z
    .strictObject({
      type: z.literal('service_account_key'),
      json: secret(z.string().min(1)).describe('The text of a service-account key (JSON); secret'),
    })
    .describe('A service-account key given as JSON text (e.g. read from an environment variable)'),
  z
    .strictObject({ type: z.literal('none') })
    .describe('No credentials (emulators and tests; needs api_endpoint)'),
]);

/** One column of an explicit schema, as BigQuery's REST API spells it (`tables.insert`). */
export interface SchemaFieldInput {
  name: string;
  type: string;
  mode?: 'NULLABLE' | 'REQUIRED' | 'REPEATED' | undefined;
  description?: string | undefined;
  fields?: SchemaFieldInput[] | undefined;
}

const FIELD_TYPES = [
  'STRING',
  'BYTES',
  'INTEGER',
  'INT64',
  'FLOAT',
  'FLOAT64',
  'NUMERIC',
  'BIGNUMERIC',
  'BOOLEAN',
  'BOOL',
  'TIMESTAMP',
  'DATE',
  'TIME',
  'DATETIME',
  'GEOGRAPHY',
  'JSON',
  'RECORD',
  'STRUCT',
] as const;

export const schemaFieldSchema: z.ZodType<SchemaFieldInput> = z.lazy(() =>
  z
    .strictObject({
      name: z.string().min(1),
      type: z
        .string()
        .transform((t) => t.toUpperCase())
        .pipe(z.enum(FIELD_TYPES)),
      mode: z.enum(['NULLABLE', 'REQUIRED', 'REPEATED']).optional(),
      description: z.string().optional(),
      fields: z.array(schemaFieldSchema).optional(),
    })
    .refine((f) => (f.type === 'RECORD' || f.type === 'STRUCT') === (f.fields !== undefined), {
      message: 'RECORD / STRUCT columns need `fields`, and only they may have them',
    }),
);

const partitioningSchema = z.strictObject({
  type: z.enum(['HOUR', 'DAY', 'MONTH', 'YEAR']).default('DAY').describe('Time-unit partitioning'),
  field: z
    .string()
    .min(1)
    .optional()
    .describe('TIMESTAMP or DATE column to partition on (default: ingestion time)'),
  expiration_ms: z.number().int().positive().optional().describe('Delete partitions older than this'),
});

/**
 * The config a user writes under `sink: { type: bigquery, config: … }`. The type is inferred from the
 * schema, never written twice; `secret()` marks the key JSON for the redactor.
 */
export const bigquerySinkConfigSchema = z
  .strictObject({
    project_id: z
      .string()
      .regex(PROJECT_ID, 'expected a Google Cloud project id')
      .describe('Project of the table'),
    dataset_id: z
      .string()
      .regex(DATASET_ID, 'letters, digits and underscores')
      .describe('Dataset of the table'),
    table_id: z.string().min(1).max(1024).describe('Target table'),
    location: z
      .string()
      .min(1)
      .optional()
      .describe('Location of the dataset (US, EU, europe-west1…); jobs run there'),
    auth: authSchema.default({ type: 'application_default' }),
    api_endpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('Base URL of the BigQuery API instead of https://bigquery.googleapis.com (emulators, tests)'),
    write_method: z
      .enum(['insert_all', 'load'])
      .default('insert_all')
      .describe('insert_all: streaming tabledata.insertAll; load: NDJSON load jobs (append mode)'),
    write_mode: z
      .enum(['append', 'upsert', 'delete'])
      .default('append')
      .describe('append rows, or upsert / delete them by key with one MERGE per page'),
    key: z
      .array(z.string().min(1))
      .refine((keys) => new Set(keys).size === keys.length, 'key columns must not repeat')
      .default([])
      .describe('Key columns; required for upsert and delete; in insert_all append they make the insertId'),
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
    create_table: z.boolean().default(false).describe('Create the table when it does not exist'),
    schema: z
      .array(schemaFieldSchema)
      .min(1)
      .optional()
      .describe('Explicit schema for create_table (default: inferred from the first page)'),
    nested_as: z
      .enum(['json', 'record'])
      .default('json')
      .describe('Inferred type of nested objects and arrays: JSON columns, or RECORD / REPEATED columns'),
    infer_numeric_strings: z
      .boolean()
      .default(true)
      .describe(
        'Infer INT64 / NUMERIC / BIGNUMERIC for strings that are exact numbers (Postgres int8, numeric)',
      ),
    partitioning: partitioningSchema.optional().describe('Time partitioning of a created table'),
    clustering: z
      .array(z.string().min(1))
      .min(1)
      .max(4)
      .optional()
      .describe('Clustering columns of a created table (at most 4)'),
    schema_evolution: z
      .enum(['fail', 'add_columns'])
      .default('fail')
      .describe('A record field the table lacks: a row error (fail), or a new NULLABLE column (add_columns)'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(50_000)
      .default(500)
      .describe('Rows per write; insertAll requests are also cut at max_request_bytes'),
    max_request_bytes: z
      .number()
      .int()
      .min(1024)
      .max(10_000_000)
      .default(9_000_000)
      .describe('Largest insertAll request body (BigQuery refuses more than 10 MB)'),
    load_max_bytes: z
      .number()
      .int()
      .min(1)
      .default(256 * 1024 * 1024)
      .describe('load: NDJSON staged before a load job is started without waiting for a checkpoint'),
    staging_dir: z
      .string()
      .min(1)
      .optional()
      .describe('load: directory for staged NDJSON (default: the OS temp dir)'),
    job_id_prefix: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -')
      .default('faucet')
      .describe('Prefix of the job ids faucet derives; change it to load the same pages again on purpose'),
    job_poll_ms: z.number().int().min(10).default(1000).describe('Interval between polls of a running job'),
    job_timeout_ms: z.number().int().min(1000).default(3_600_000).describe('Longest wait for one job'),
    request_timeout_ms: z.number().int().min(100).default(120_000).describe('Time limit of one API request'),
    token_scan_jobs: z
      .number()
      .int()
      .min(0)
      .default(1000)
      .describe('Effectively-once: recent jobs searched for the last commit token when a run starts'),
    retry: retryPolicySchema
      .prefault({ max_attempts: 5, base_delay_ms: 1000 })
      .describe('Retries of 5xx, quota and network errors (with the same insertIds / job ids)'),
  })
  .superRefine((config, ctx) => {
    if (config.write_mode !== 'append' && config.key.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: `write_mode ${config.write_mode} needs the key columns`,
      });
    }
    if (config.delete_marker !== undefined && config.write_mode !== 'upsert') {
      ctx.addIssue({
        code: 'custom',
        path: ['delete_marker'],
        message: 'delete_marker needs write_mode upsert (write_mode delete deletes every record)',
      });
    }
    if (config.auth.type === 'none' && config.api_endpoint === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['auth'],
        message: 'auth type none is for emulators and tests: set api_endpoint, or use real credentials',
      });
    }
    if (config.schema !== undefined && !config.create_table) {
      ctx.addIssue({
        code: 'custom',
        path: ['schema'],
        message: 'schema is used to create the table: set create_table: true',
      });
    }
  });

/** The validated config (defaults applied). */
export type BigQuerySinkConfig = z.infer<typeof bigquerySinkConfigSchema>;
export type BigQuerySinkConfigInput = z.input<typeof bigquerySinkConfigSchema>;
export type AuthConfig = BigQuerySinkConfig['auth'];
