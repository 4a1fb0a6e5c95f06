import { primaryKeysSchema, replicationMethodSchema, secret } from '@faucet/core';
import { z } from 'zod';

const scalar = z.union([z.string(), z.number(), z.boolean()]);
const queryValue = z.union([scalar, z.array(scalar)]);
const json: z.ZodType<unknown> = z.unknown();

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `15m`, `1h`, `7d` or a number of seconds, in milliseconds. */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const match = DURATION.exec(value);
  return Number(match?.[1] ?? Number.NaN) * (UNIT_MS[match?.[2] ?? ''] ?? Number.NaN);
}

const paginationSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    type: z.literal('page_number'),
    param: z.string().min(1).default('page'),
    start_page: z.number().int().min(0).default(1),
    page_size: z.number().int().positive().optional(),
    page_size_param: z.string().min(1).optional(),
  }),
  z.strictObject({
    type: z.literal('offset'),
    offset_param: z.string().min(1).default('offset'),
    limit_param: z.string().min(1).default('limit'),
    limit: z.number().int().positive().default(100),
    total_path: z.string().min(1).optional(),
  }),
  z
    .strictObject({
      type: z.literal('cursor'),
      cursor_path: z.string().min(1).describe('JSONPath of the next cursor in the response body'),
      param: z.string().min(1).optional().describe('query parameter that carries the cursor'),
      body_field: z.string().min(1).optional().describe('JSON body field that carries the cursor'),
    })
    .refine((p) => (p.param === undefined) !== (p.body_field === undefined), {
      message: 'give exactly one of param or body_field',
    }),
  z.strictObject({
    type: z.literal('next_link'),
    next_link_path: z.string().min(1).describe('JSONPath of the next URL in the response body'),
  }),
  z.strictObject({ type: z.literal('link_header') }),
]);

const tokenFields = {
  token_path: z.string().min(1).default('$.access_token'),
  expiry_path: z.string().min(1).optional().describe('JSONPath of the lifetime in seconds'),
  expiry_ratio: z.number().gt(0).max(1).default(0.9).describe('refresh after this share of the lifetime'),
};

const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({ type: z.literal('bearer'), token: secret(z.string().min(1)) }),
  z.strictObject({
    type: z.literal('basic'),
    username: z.string(),
    password: secret(z.string()),
  }),
  z
    .strictObject({
      type: z.literal('api_key'),
      header: z.string().min(1).optional(),
      query_param: z.string().min(1).optional(),
      value: secret(z.string().min(1)),
    })
    .refine((a) => (a.header === undefined) !== (a.query_param === undefined), {
      message: 'give exactly one of header or query_param',
    }),
  z.strictObject({
    type: z.literal('oauth2'),
    token_url: z.url(),
    client_id: z.string().min(1),
    client_secret: secret(z.string().min(1)),
    scopes: z.array(z.string()).default([]),
    ...tokenFields,
    expiry_path: tokenFields.expiry_path.default('$.expires_in'),
  }),
  z.strictObject({
    type: z.literal('token_endpoint'),
    url: z.url(),
    method: z.enum(['GET', 'POST']).default('POST'),
    headers: z.record(z.string(), secret(z.string())).default({}),
    body: secret(z.record(z.string(), json)).optional(),
    header: z.string().min(1).default('Authorization'),
    prefix: z.string().default('Bearer '),
    ...tokenFields,
  }),
]);

const windowSchema = z.strictObject({
  field_param_start: z.string().min(1).describe('query parameter for the window start (inclusive)'),
  field_param_end: z.string().min(1).describe('query parameter for the window end (exclusive)'),
  size: z
    .union([z.string().regex(DURATION, 'expected 30s, 15m, 1h, 1d or seconds'), z.number().positive()])
    .describe('window length'),
  start: z.string().min(1).describe('ISO-8601 start of the first window'),
});

const partitionsSchema = z
  .strictObject({
    param: z.string().min(1).optional().describe('query parameter set to each value'),
    placeholder: z.string().min(1).optional().describe('{placeholder} in `path` set to each value'),
    values: z.array(z.union([z.string(), z.number()])).min(1),
    concurrency: z.number().int().min(1).default(4).describe('partitions read at once, at most'),
  })
  .refine((p) => (p.param === undefined) !== (p.placeholder === undefined), {
    message: 'give exactly one of param or placeholder',
  });

const tlsSchema = z
  .strictObject({
    ca: z
      .string()
      .min(1)
      .optional()
      .describe('PEM text of the CA certificate(s) to trust instead of the default root CAs'),
    ca_file: z.string().min(1).optional().describe('path of a PEM file with the CA certificate(s) to trust'),
    cert: z.string().min(1).optional().describe('PEM text of the client certificate (chain)'),
    cert_file: z.string().min(1).optional().describe('path of a PEM file with the client certificate'),
    key: secret(z.string().min(1)).optional().describe('PEM text of the client private key'),
    key_file: z.string().min(1).optional().describe('path of a PEM file with the client private key'),
    passphrase: secret(z.string().min(1)).optional().describe('passphrase of an encrypted client key'),
    reject_unauthorized: z
      .boolean()
      .default(true)
      .describe('verify the server certificate; false accepts any certificate (never in production)'),
    server_name: z
      .string()
      .min(1)
      .optional()
      .describe('name sent as SNI and checked against the server certificate instead of the URL host'),
  })
  .superRefine((t, ctx) => {
    const pairs: [string, unknown, string, unknown][] = [
      ['ca', t.ca, 'ca_file', t.ca_file],
      ['cert', t.cert, 'cert_file', t.cert_file],
      ['key', t.key, 'key_file', t.key_file],
    ];
    for (const [a, va, b, vb] of pairs) {
      if (va !== undefined && vb !== undefined) {
        ctx.addIssue({ code: 'custom', path: [b], message: `give ${a} or ${b}, not both` });
      }
    }
    const hasCert = t.cert !== undefined || t.cert_file !== undefined;
    const hasKey = t.key !== undefined || t.key_file !== undefined;
    if (hasCert !== hasKey) {
      ctx.addIssue({
        code: 'custom',
        path: [hasCert ? 'key_file' : 'cert_file'],
        message:
          'a client certificate needs both a certificate (cert or cert_file) and its key (key or key_file)',
      });
    }
    if (t.passphrase !== undefined && !hasKey) {
      ctx.addIssue({ code: 'custom', path: ['passphrase'], message: 'passphrase needs key or key_file' });
    }
  });

export const restSourceConfigSchema = z
  .strictObject({
    base_url: z.url().describe('https://api.example.com'),
    path: z.string().default('').describe('appended to base_url; {name} placeholders from path_params'),
    path_params: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH']).default('GET'),
    headers: z.record(z.string(), z.string()).default({}),
    query_params: z.record(z.string(), queryValue).default({}).describe('arrays become repeated params'),
    body: z.record(z.string(), json).optional().describe('JSON request body'),
    records_path: z.string().min(1).optional().describe('JSONPath of the records ($.data, $.a[*])'),
    pagination: paginationSchema.default({ type: 'none' }),
    auth: authSchema.default({ type: 'none' }),
    timeout_ms: z.number().int().positive().default(30_000),
    max_pages: z.number().int().positive().default(100),
    max_retries: z.number().int().min(0).default(3),
    retry_backoff_ms: z.number().int().min(0).default(1000),
    max_retry_after_ms: z.number().int().min(0).default(300_000),
    requests_per_second: z.number().positive().optional(),
    tolerated_statuses: z.array(z.number().int().min(100).max(599)).default([]),
    replication_method: replicationMethodSchema,
    cursor_param: z.string().min(1).optional().describe('query parameter that gets the stored cursor'),
    primary_keys: primaryKeysSchema.default([]),
    conditional_requests: z.boolean().default(false).describe('send If-None-Match / If-Modified-Since'),
    window: windowSchema.optional(),
    partitions: partitionsSchema.optional(),
    tls: tlsSchema.optional(),
    schema_sample_size: z.number().int().positive().default(100),
    name: z.string().min(1).optional().describe('stream name for discover()'),
  })
  .refine((c) => !(c.window && c.replication_method.type === 'Incremental'), {
    message: 'window and Incremental replication cannot be combined',
    path: ['window'],
  })
  .refine((c) => !(c.window && c.partitions), { message: 'window and partitions cannot be combined' });

export type RestSourceConfig = z.infer<typeof restSourceConfigSchema>;
export type RestSourceConfigInput = z.input<typeof restSourceConfigSchema>;
export type PaginationConfig = RestSourceConfig['pagination'];
export type AuthConfig = RestSourceConfig['auth'];
export type TlsConfig = NonNullable<RestSourceConfig['tls']>;
