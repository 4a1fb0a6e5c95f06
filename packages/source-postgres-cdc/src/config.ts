import { connectionUrlSchema, connectTimeoutMsSchema } from '@faucet/common-postgres';
import { z } from 'zod';

const SLOT_NAME = /^[a-z0-9_]{1,63}$/;
const PUBLICATION_NAME = /^[A-Za-z_][A-Za-z0-9_$]{0,62}$/;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * `250ms`, `30s`, `5m`, `1h`, or a number of seconds (as in the REST source). Kept as written and
 * turned into milliseconds with {@link durationMs} where used, so validating a config twice (the CLI
 * validates, then the factory does) cannot change its meaning.
 */
const duration = (what: string) =>
  z
    .union([
      z.string().regex(DURATION, 'expected a duration such as 500ms, 30s, 5m, 1h, or a number of seconds'),
      z.number().min(0),
    ])
    .describe(what);

/** A duration of the config in milliseconds. */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return Math.round(value * 1000);
  const match = DURATION.exec(value);
  if (!match) throw new TypeError(`not a duration: ${JSON.stringify(value)}`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/**
 * The config a user writes under `source: { type: postgres-cdc, config: … }`. `secret()` marks the
 * URL (it may carry a password).
 */
export const postgresCdcConfigSchema = z
  .strictObject({
    connection_url: connectionUrlSchema(),
    slot_name: z
      .string()
      .regex(SLOT_NAME, 'lower-case letters, digits and _ only, at most 63 characters')
      .describe('Logical replication slot; also the state key `postgres-cdc:<slot_name>`'),
    publication_name: z
      .string()
      .regex(PUBLICATION_NAME, 'a plain identifier (letters, digits, _ and $), at most 63 characters')
      .describe('Publication whose tables are streamed'),
    create_publication: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('Create the publication for these tables (`schema.table`) when it does not exist'),
    create_slot_if_missing: z
      .boolean()
      .default(true)
      .describe('Create the slot (pgoutput) when it does not exist'),
    slot_type: z
      .enum(['permanent', 'temporary'])
      .default('permanent')
      .describe('A temporary slot lives as long as the run: nothing resumes from it'),
    snapshot: z
      .enum(['initial', 'never'])
      .default('initial')
      .describe('initial: copy the published tables first, then stream from exactly that point'),
    snapshot_batch_size: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10_000)
      .describe('Rows per snapshot FETCH'),
    proto_version: z
      .union([z.literal(1), z.literal(2)])
      .default(1)
      .describe('pgoutput protocol version'),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(1000)
      .describe('Most records per page; a larger transaction spans several pages, the bookmark on its last'),
    max_staged_records: z
      .number()
      .int()
      .min(1)
      .default(10_000)
      .describe('Most records received but not yet taken by the run; the stream pauses beyond it'),
    idle_timeout: duration('Stop after this long without a change (0: run until cancelled)').default('30s'),
    max_messages: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe('Stop at the end of the transaction that reaches this many changes'),
    status_update_interval: duration('How often the slot position is reported to the server').default('10s'),
    heartbeat_interval: duration(
      'After this long without a transaction, write a heartbeat (pg_logical_emit_message) so the slot can advance on a quiet database (0: off)',
    ).default('15s'),
    connect_timeout_ms: connectTimeoutMsSchema(),
  })
  .superRefine((config, ctx) => {
    if (config.slot_type === 'temporary' && config.snapshot === 'initial') {
      ctx.addIssue({
        code: 'custom',
        path: ['snapshot'],
        message:
          'a temporary slot cannot be combined with snapshot: initial; use snapshot: never or a permanent slot',
      });
    }
    if (durationMs(config.status_update_interval) <= 0) {
      ctx.addIssue({ code: 'custom', path: ['status_update_interval'], message: 'must be more than 0' });
    }
  });

/** The validated config (defaults applied). */
export type PostgresCdcConfig = z.infer<typeof postgresCdcConfigSchema>;
/** The config as a user writes it (defaults not yet applied). */
export type PostgresCdcConfigInput = z.input<typeof postgresCdcConfigSchema>;
