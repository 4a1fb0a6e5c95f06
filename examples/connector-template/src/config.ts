import { secret } from '@faucet/core';
import { z } from 'zod';

/**
 * The config a user writes under `source: { type: example, config: … }`. The type is inferred from
 * the schema, never written twice; `secret()` marks the token so faucet redacts it everywhere.
 */
export const exampleSourceConfigSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/ })
    .describe('The records endpoint, e.g. https://api.example.com/v1/records'),
  token: secret(z.string().min(1)).describe('API token, sent as `Authorization: Bearer <token>`'),
  cursor_field: z
    .string()
    .min(1)
    .default('id')
    .describe('The field the API sorts records by (ascending, unique) and filters on with `?after=`'),
  start_after: z
    .union([z.string(), z.number()])
    .optional()
    .describe('On a first run, start after this cursor value (a stored bookmark wins)'),
  page_size: z
    .number()
    .int()
    .min(1)
    .max(10_000)
    .optional()
    .describe("Records per request (default: the run's batch size)"),
  timeout_ms: z.number().int().min(1).default(30_000).describe('Time limit of one request, in ms'),
});

/** The validated config (defaults applied). */
export type ExampleSourceConfig = z.infer<typeof exampleSourceConfigSchema>;
