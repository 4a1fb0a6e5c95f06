/** The shared Kafka helpers without a broker: config pieces, kafkajs options, error mapping. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  brokerList,
  brokerNames,
  durationMs,
  isCoordinatorMoving,
  kafkaAuthSchema,
  kafkaTlsSchema,
  mapKafkaError,
  saslOptions,
  tlsOptions,
} from '@faucet/common-kafka';
import { ErrorCodes, Redactor, SourceError } from '@faucet/core';
import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';

describe('config pieces', () => {
  it('durations and brokers', () => {
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs('3s')).toBe(3000);
    expect(durationMs(1.5)).toBe(1500);
    expect(durationMs('2m')).toBe(120_000);
    expect(brokerList('a:1')).toEqual(['a:1']);
    expect(brokerNames(['a:1', 'b:2'])).toBe('a:1, b:2');
  });

  it('auth: none by default; SASL PLAIN and SCRAM map onto kafkajs mechanisms', () => {
    expect(kafkaAuthSchema.parse(undefined)).toEqual({ type: 'none' });
    expect(saslOptions({ type: 'none' })).toBeUndefined();
    expect(saslOptions({ type: 'sasl_plain', username: 'u', password: 'p' })).toEqual({
      mechanism: 'plain',
      username: 'u',
      password: 'p',
    });
    const scram = kafkaAuthSchema.parse({ type: 'sasl_scram', username: 'u', password: 'p' });
    expect(saslOptions(scram)).toMatchObject({ mechanism: 'scram-sha-256' });
    expect(
      saslOptions(
        kafkaAuthSchema.parse({
          type: 'sasl_scram',
          mechanism: 'SCRAM-SHA-512',
          username: 'u',
          password: 'p',
        }),
      ),
    ).toMatchObject({ mechanism: 'scram-sha-512' });
    expect(kafkaAuthSchema.safeParse({ type: 'sasl_plain', username: 'u' }).success).toBe(false);
  });

  it('tls: off by default, true, or files read into the connection options', () => {
    expect(kafkaTlsSchema.parse(undefined)).toBe(false);
    expect(tlsOptions(true)).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'kafka-tls-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA PEM');
    const tls = kafkaTlsSchema.parse({ ca_file: join(dir, 'ca.pem'), server_name: 'broker.local' });
    expect(tlsOptions(tls)).toEqual({ ca: 'CA PEM', rejectUnauthorized: true, servername: 'broker.local' });
    expect(() => tlsOptions(kafkaTlsSchema.parse({ ca_file: join(dir, 'missing.pem') }))).toThrow(
      /tls.ca_file: cannot read .*missing.pem \(ENOENT\)/,
    );
    expect(kafkaTlsSchema.safeParse({ cert_file: 'c.pem' }).success).toBe(false);
  });
});

describe('mapKafkaError', () => {
  const ctx = {
    name: 'kafka source',
    connector: 'kafka',
    brokers: 'h:9092',
    action: 'reading topic "t"',
    redactor: new Redactor(['s3cret-pw']),
    failure: (message: string, options: ConstructorParameters<typeof SourceError>[1]) =>
      new SourceError(message, options),
    user: 'alice',
  };
  const kafkajs = (name: string, message: string, extra: Record<string, unknown> = {}) =>
    Object.assign(new Error(message), { name, ...extra });

  it('unwraps retries, names the brokers, the action and the user, never the password', () => {
    const refused = kafkajs('KafkaJSNumberOfRetriesExceeded', 'Connection error: connect ECONNREFUSED', {
      cause: kafkajs('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED'),
    });
    const connection = mapKafkaError(refused, ctx);
    expect(connection.code).toBe(ErrorCodes.CONNECTION_FAILED);
    expect(connection.message).toContain(
      'kafka source (h:9092): cannot reach the brokers while reading topic "t"',
    );

    const auth = mapKafkaError(kafkajs('KafkaJSSASLAuthenticationError', 'bad password s3cret-pw'), ctx);
    expect(auth.code).toBe(ErrorCodes.AUTH_FAILED);
    expect(auth.message).toContain('authentication failed for user "alice"');
    expect(auth.message).not.toContain('s3cret-pw');

    const acl = mapKafkaError(
      kafkajs('KafkaJSProtocolError', 'Not authorized', { type: 'TOPIC_AUTHORIZATION_FAILED' }),
      ctx,
    );
    expect(acl.code).toBe(ErrorCodes.AUTH_FAILED);
    expect(acl.message).toContain('not authorized (ACL, TOPIC_AUTHORIZATION_FAILED)');

    const other = mapKafkaError(
      kafkajs('KafkaJSProtocolError', 'leader moved s3cret-pw', {
        type: 'NOT_LEADER_FOR_PARTITION',
        retriable: true,
      }),
      ctx,
    );
    expect(other.code).toBe(ErrorCodes.SOURCE_FAILED);
    expect(other.retryable).toBe(true);
    const coordinator = mapKafkaError(
      kafkajs('KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator'),
      ctx,
    );
    expect(coordinator.code).toBe(ErrorCodes.SOURCE_FAILED);
    expect(coordinator.message).toContain(
      "no broker named the group's coordinator (an ACL may deny this user",
    );

    expect(other.message).toBe(
      'kafka source (h:9092): reading topic "t" failed (NOT_LEADER_FOR_PARTITION): leader moved ***',
    );
  });
});

describe('a group coordinator loading or moving', () => {
  // The errors kafkajs 2.2 crashes a consumer with while a broker loads __consumer_offsets.
  const protocolError = (type: string, code: number) =>
    new KafkaJSProtocolError(Object.assign(new Error(`${type} (tests)`), { type, code, retriable: true }));

  it('is told apart from other crashes, also when wrapped in retries exceeded', () => {
    const loading = protocolError('GROUP_LOAD_IN_PROGRESS', 14);
    expect(isCoordinatorMoving(loading)).toBe(true);
    expect(
      isCoordinatorMoving(new KafkaJSNumberOfRetriesExceeded(loading, { retryCount: 5, retryTime: 300 })),
    ).toBe(true);
    expect(isCoordinatorMoving(protocolError('NOT_COORDINATOR', 16))).toBe(true);
    expect(isCoordinatorMoving(protocolError('COORDINATOR_NOT_AVAILABLE', 15))).toBe(true);
    expect(isCoordinatorMoving(protocolError('TOPIC_AUTHORIZATION_FAILED', 29))).toBe(false);
    expect(isCoordinatorMoving(new Error('GROUP_LOAD_IN_PROGRESS'))).toBe(false);
  });
});
