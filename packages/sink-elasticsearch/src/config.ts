import { retryPolicySchema, secret } from '@faucet/core';
import { z } from 'zod';
import { parseIndexName } from './index-name.js';

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const json = z.record(z.string(), z.unknown());

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

const nodeUrl = z
  .string()
  .min(1)
  .refine(isHttpUrl, 'expected an http:// or https:// URL (percent-encode special characters)');

const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('none') }),
  z.strictObject({
    type: z.literal('basic'),
    username: z.string().min(1),
    password: secret(z.string()),
  }),
  z.strictObject({ type: z.literal('bearer'), token: secret(z.string().min(1)) }),
  z.strictObject({
    type: z.literal('api_key'),
    id: z
      .string()
      .min(1)
      .optional()
      .describe('The key id, when api_key is the key itself (not the encoded form)'),
    api_key: secret(z.string().min(1)).describe(
      'The encoded API key (base64 of id:key), or the key with `id`',
    ),
  }),
]);

/**
 * The config a user writes under `sink: { type: elasticsearch, config: … }`. The type is inferred
 * from the schema, never written twice; `secret()` marks every credential.
 */
export const elasticsearchSinkConfigSchema = z
  .strictObject({
    base_url: z
      .union([nodeUrl, z.array(nodeUrl).min(1)])
      .describe('URL of a node (http://host:9200), or a list of them; requests round-robin over the list'),
    auth: authSchema.default({ type: 'none' }).describe('none, basic, bearer or api_key'),
    index: z
      .string()
      .min(1)
      .describe(
        'Target index (or alias or data stream), fixed or a template: logs-{date:created_at:yyyy.MM}',
      ),
    write_mode: z
      .enum(['append', 'index', 'upsert', 'delete'])
      .default('append')
      .describe(
        'append: create (generated ids, or ids from key); index: replace by key; ' +
          'upsert: update with doc_as_upsert by key; delete: delete by key',
      ),
    key: z
      .array(z.string().min(1))
      .refine((keys) => new Set(keys).size === keys.length, 'key fields must not repeat')
      .default([])
      .describe('Record fields that make the document _id; required for index, upsert and delete'),
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
      .describe('index and upsert modes: records carrying the marker delete their _id instead'),
    pipeline: z.string().min(1).optional().describe('Ingest pipeline every document goes through'),
    routing_field: z
      .string()
      .min(1)
      .optional()
      .describe('Record field whose value routes the document to a shard (_routing)'),
    refresh: z
      .union([z.literal(false), z.literal('wait_for')])
      .default(false)
      .describe('wait_for: flush() returns once what was written is visible to search'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(100_000)
      .default(1000)
      .describe('Documents per write, and most documents in one _bulk request'),
    max_bulk_bytes: z
      .number()
      .int()
      .min(1024)
      .default(10 * 1024 * 1024)
      .describe('Largest _bulk body in bytes; a bigger batch is sent in several requests'),
    concurrency: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(2)
      .describe('_bulk requests of one write in flight at once (a write is spread over this many)'),
    request_timeout_ms: z.number().int().min(1).default(60_000).describe('Time limit for one request, in ms'),
    retry: retryPolicySchema
      .extend({
        max_attempts: z.number().int().min(1).default(10).describe('Attempts in total, the first included'),
      })
      .prefault({})
      .describe(
        'Backoff for documents the node rejects with 429 (and whole requests it refuses with 429/503)',
      ),
    create_index: z
      .strictObject({
        settings: json.optional().describe('Index settings (number_of_shards, …)'),
        mappings: json.optional().describe('Index mappings ({properties: …})'),
        template_name: z
          .string()
          .min(1)
          .optional()
          .describe('Name of the index template for a templated index (default: faucet-<pattern>)'),
      })
      .optional()
      .describe(
        'Create the index when missing (a fixed name), or an index template matching every name a ' +
          'templated index produces, with these settings and mappings',
      ),
    commit_token_index: z
      .string()
      .min(1)
      .default('faucet-commit-tokens')
      .describe('effectively-once delivery: the index holding one small document per state key'),
  })
  .superRefine((config, ctx) => {
    if (
      (config.write_mode === 'index' || config.write_mode === 'upsert' || config.write_mode === 'delete') &&
      config.key.length === 0
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: `write_mode ${config.write_mode} needs the key fields (they make the _id)`,
      });
    }
    if (
      config.delete_marker !== undefined &&
      config.write_mode !== 'index' &&
      config.write_mode !== 'upsert'
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['delete_marker'],
        message: 'delete_marker needs write_mode index or upsert (write_mode delete deletes every record)',
      });
    }
    const problem = parseIndexName(config.index).problem;
    if (problem) ctx.addIssue({ code: 'custom', path: ['index'], message: problem });
  });

/** The validated config (defaults applied). */
export type ElasticsearchSinkConfig = z.infer<typeof elasticsearchSinkConfigSchema>;
export type ElasticsearchSinkConfigInput = z.input<typeof elasticsearchSinkConfigSchema>;
