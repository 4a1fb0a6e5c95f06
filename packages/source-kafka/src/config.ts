import { durationMs, durationSchema, kafkaConnectionShape } from '@faucet/common-kafka';
import { z } from 'zod';

const format = (what: string) =>
  z
    .enum(['json', 'string', 'bytes'])
    .describe(`${what}: json (parsed), string (UTF-8 text) or bytes (base64 text)`);

/**
 * The config a user writes under `source: { type: kafka, config: … }`. Durations are kept as written
 * (see `durationMs`); `secret()` marks the SASL password and the TLS key passphrase.
 */
export const kafkaSourceConfigSchema = z
  .strictObject({
    ...kafkaConnectionShape,
    topics: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Topics to read, by name (or give topic_pattern)'),
    topic_pattern: z
      .string()
      .min(1)
      .optional()
      .describe('Read every topic whose name matches this regular expression (matched at start)'),
    group_id: z
      .string()
      .min(1)
      .describe('Consumer group: its members share the partitions, and its offsets show the lag'),
    auto_offset_reset: z
      .enum(['earliest', 'latest'])
      .default('latest')
      .describe('Where a partition starts when neither the bookmark nor the group has an offset for it'),
    value_format: format('How message values are decoded').default('json'),
    key_format: format('How message keys are decoded').default('string'),
    isolation_level: z
      .enum(['read_committed', 'read_uncommitted'])
      .default('read_committed')
      .describe('read_committed skips messages of aborted transactions and waits for open ones'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(1000)
      .describe('Most messages per page (and checkpoint); the pipeline batch_size caps it too'),
    idle_timeout: durationSchema(
      'Stop after this long without a message once caught up with every partition (0: run until cancelled)',
    ).default('10s'),
    max_messages: z.number().int().min(1).optional().describe('Stop after this many messages'),
    max_buffered_messages: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('Most messages fetched but not yet taken by the run; fetching pauses beyond it'),
    session_timeout: durationSchema(
      'How long the group waits for a silent member before giving its partitions away',
    ).default('30s'),
    rebalance_timeout: durationSchema(
      'How long the group waits for members to rejoin in a rebalance',
    ).default('60s'),
    heartbeat_interval: durationSchema('How often the member tells the group it is alive').default('3s'),
    max_bytes_per_partition: z
      .number()
      .int()
      .min(1)
      .default(1_048_576)
      .describe('Most bytes one fetch brings back per partition'),
    max_bytes: z
      .number()
      .int()
      .min(1)
      .default(10_485_760)
      .describe('Most bytes one fetch brings back in all'),
    max_wait_time: durationSchema('How long the broker holds a fetch that has nothing new').default('500ms'),
    commit_offsets: z
      .boolean()
      .default(true)
      .describe(
        "Commit the group's offsets from each stored checkpoint (never ahead of it), so tools see the lag",
      ),
  })
  .superRefine((config, ctx) => {
    if ((config.topics === undefined) === (config.topic_pattern === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['topics'],
        message: 'give exactly one of topics (names) or topic_pattern (a regular expression)',
      });
    }
    if (config.topic_pattern !== undefined) {
      try {
        new RegExp(config.topic_pattern);
      } catch {
        ctx.addIssue({ code: 'custom', path: ['topic_pattern'], message: 'not a valid regular expression' });
      }
    }
    const session = durationMs(config.session_timeout);
    if (durationMs(config.heartbeat_interval) >= session) {
      ctx.addIssue({
        code: 'custom',
        path: ['heartbeat_interval'],
        message: 'must be shorter than session_timeout',
      });
    }
    if (session <= 0)
      ctx.addIssue({ code: 'custom', path: ['session_timeout'], message: 'must be more than 0' });
  });

/** The validated config (defaults applied). */
export type KafkaSourceConfig = z.infer<typeof kafkaSourceConfigSchema>;
/** The config as a user writes it (defaults not yet applied). */
export type KafkaSourceConfigInput = z.input<typeof kafkaSourceConfigSchema>;
