/**
 * The connection side of a Kafka connector's config, shared by the source and the sink: brokers,
 * client id, authentication (SASL PLAIN / SCRAM) and TLS, and the time limits. Spread into each
 * connector's own `z.strictObject({...kafkaConnectionShape, ...})`. Secrets are marked `secret()`.
 */
import { secret } from '@faucet/core';
import { z } from 'zod';

const BROKER = /^[^\s:/,]+:\d{1,5}$/;

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * `250ms`, `30s`, `5m`, `1h`, or a number of seconds. Kept as written and turned into milliseconds
 * with {@link durationMs} where used, so validating a config twice cannot change its meaning.
 */
export function durationSchema(what: string) {
  return z
    .union([
      z.string().regex(DURATION, 'expected a duration such as 500ms, 30s, 5m, 1h, or a number of seconds'),
      z.number().min(0),
    ])
    .describe(what);
}

/** A duration of the config in milliseconds. */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return Math.round(value * 1000);
  const match = DURATION.exec(value);
  if (!match) throw new TypeError(`not a duration: ${JSON.stringify(value)}`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

const brokerSchema = z.string().regex(BROKER, 'expected host:port');

export const kafkaAuthSchema = z
  .discriminatedUnion('type', [
    z.strictObject({ type: z.literal('none') }),
    z.strictObject({
      type: z.literal('sasl_plain'),
      username: z.string().min(1),
      password: secret(z.string().min(1)),
    }),
    z.strictObject({
      type: z.literal('sasl_scram'),
      mechanism: z.enum(['SCRAM-SHA-256', 'SCRAM-SHA-512']).default('SCRAM-SHA-256'),
      username: z.string().min(1),
      password: secret(z.string().min(1)),
    }),
  ])
  .default({ type: 'none' })
  .describe('none, sasl_plain {username, password} or sasl_scram {mechanism, username, password}');

export const kafkaTlsSchema = z
  .union([
    z.boolean(),
    z
      .strictObject({
        ca_file: z.string().min(1).optional().describe('PEM file with the CA certificate(s) to trust'),
        cert_file: z.string().min(1).optional().describe('PEM file with the client certificate (mTLS)'),
        key_file: z.string().min(1).optional().describe('PEM file with the client private key (mTLS)'),
        passphrase: secret(z.string().min(1)).optional().describe('passphrase of an encrypted client key'),
        reject_unauthorized: z
          .boolean()
          .default(true)
          .describe('verify the broker certificate; false accepts any (never in production)'),
        server_name: z.string().min(1).optional().describe('SNI name checked against the certificate'),
      })
      .refine((t) => (t.cert_file === undefined) === (t.key_file === undefined), {
        message: 'give cert_file and key_file together (client certificate and its key)',
        path: ['key_file'],
      }),
  ])
  .default(false)
  .describe('TLS to the brokers: true (system CAs) or {ca_file, cert_file, key_file, …}; default off');

/** The connection fields every Kafka connector config starts with. */
export const kafkaConnectionShape = {
  brokers: z
    .union([brokerSchema, z.array(brokerSchema).min(1)])
    .describe('Bootstrap brokers: host:port, or a list of them'),
  client_id: z.string().min(1).default('faucet').describe('Client id the brokers see (quotas, logs)'),
  auth: kafkaAuthSchema,
  tls: kafkaTlsSchema,
  connect_timeout_ms: z.number().int().min(1).default(10_000).describe('Time limit for a connection, in ms'),
  request_timeout_ms: z.number().int().min(1).default(30_000).describe('Time limit for one request, in ms'),
};

export type KafkaAuth = z.infer<typeof kafkaAuthSchema>;
export type KafkaTls = z.infer<typeof kafkaTlsSchema>;

/** The connection part of a validated config. */
export interface KafkaConnection {
  brokers: string | string[];
  client_id: string;
  auth: KafkaAuth;
  tls: KafkaTls;
  connect_timeout_ms: number;
  request_timeout_ms: number;
}

/** The brokers as a list. */
export function brokerList(brokers: string | readonly string[]): string[] {
  return typeof brokers === 'string' ? [brokers] : [...brokers];
}

/** `a:9092, b:9092` for messages (never credentials: brokers carry none). */
export function brokerNames(brokers: string | readonly string[]): string {
  return brokerList(brokers).join(', ');
}
