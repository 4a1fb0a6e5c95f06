import { durationSchema, kafkaConnectionShape } from '@faucet/common-kafka';
import { z } from 'zod';

const TOPIC = /^[A-Za-z0-9._-]{1,249}$/;
const topicName = z
  .string()
  .regex(TOPIC, 'a Kafka topic name: letters, digits, ".", "_" and "-", at most 249');

const format = (what: string) =>
  z
    .enum(['json', 'string', 'bytes'])
    .describe(`${what}: json (JSON text), string (the text as is) or bytes (base64 text)`);

/**
 * The config a user writes under `sink: { type: kafka, config: … }`. `topic` is a name, or
 * `{type: from_path, path}` to take each record's topic from a field (dotted path).
 */
export const kafkaSinkConfigSchema = z
  .strictObject({
    ...kafkaConnectionShape,
    topic: z
      .union([
        topicName,
        z.discriminatedUnion('type', [
          z.strictObject({ type: z.literal('fixed'), name: topicName }),
          z.strictObject({ type: z.literal('from_path'), path: z.string().min(1) }),
        ]),
      ])
      .describe('The topic: a name, {type: fixed, name} or {type: from_path, path} (per record)'),
    key_path: z
      .string()
      .min(1)
      .optional()
      .describe('Record field (dotted path) whose value is the message key'),
    value_path: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Record field whose value is the message value (default: the whole record); null is a tombstone',
      ),
    partition_path: z
      .string()
      .min(1)
      .optional()
      .describe('Record field holding the partition number (default: by key, murmur2 as the Java client)'),
    headers_path: z
      .string()
      .min(1)
      .optional()
      .describe('Record field holding an object of headers (string values; others as JSON text)'),
    key_format: format('How keys are written').default('string'),
    value_format: format('How values are written').default('json'),
    acks: z
      .union([z.literal('all'), z.literal(1), z.literal(0)])
      .default('all')
      .describe('all: every in-sync replica has the message; 1: the leader; 0: no acknowledgement'),
    idempotent: z
      .boolean()
      .default(true)
      .describe('Idempotent producer: a retried request never writes a message twice (needs acks all)'),
    compression: z.enum(['none', 'gzip']).default('none').describe('Compression of the message batches'),
    batch_size: z.number().int().min(1).max(100_000).default(1000).describe('Records per write'),
    max_message_bytes: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Largest message (and message batch) sent; default: each topic's max.message.bytes"),
    transactional_id_prefix: z
      .string()
      .min(1)
      .default('faucet')
      .describe('Effectively-once: the transactional id is <prefix>-<state key>'),
    commit_token_topic: topicName
      .default('__faucet_commit_tokens')
      .describe('Effectively-once: compacted topic holding the last commit token of each state key'),
    transaction_timeout: durationSchema(
      'Effectively-once: the broker aborts a transaction left open longer than this',
    ).default('60s'),
    create_commit_token_topic: z
      .boolean()
      .default(true)
      .describe('Create the commit token topic (compacted, one partition) when it does not exist'),
  })
  .superRefine((config, ctx) => {
    if (config.idempotent && config.acks !== 'all') {
      ctx.addIssue({
        code: 'custom',
        path: ['acks'],
        message: 'the idempotent producer needs acks: all (or set idempotent: false)',
      });
    }
  });

/** The validated config (defaults applied). */
export type KafkaSinkConfig = z.infer<typeof kafkaSinkConfigSchema>;
/** The config as a user writes it (defaults not yet applied). */
export type KafkaSinkConfigInput = z.input<typeof kafkaSinkConfigSchema>;
