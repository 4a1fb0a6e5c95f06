/**
 * The kafkajs client made from a connector config. kafkajs's own log lines go to the connector's
 * logger at debug level: kafkajs logs retried, harmless conditions (a coordinator still loading, a
 * transaction still finishing) as errors, and what really fails reaches the caller as a thrown
 * error that the connectors wrap with their own message.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError, type JsonObject, type Logger, type Redactor } from '@faucet/core';
import { Kafka, type KafkaConfig, type logCreator, logLevel, type SASLOptions } from 'kafkajs';
import { brokerList, type KafkaConnection, type KafkaTls } from './config.js';

export interface KafkaClientOptions {
  logger: Logger;
  redactor: Redactor;
  /** Retries of kafkajs's own cluster operations (connect, metadata); kafkajs's default is 5. */
  retries?: number;
}

function readPem(field: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([{ path: `tls.${field}`, message: `cannot read ${path} (${code})` }], {
      context: 'invalid Kafka TLS settings',
    });
  }
}

/** kafkajs's `ssl` option from the config's `tls`. */
export function tlsOptions(tls: KafkaTls): boolean | ConnectionOptions {
  if (typeof tls === 'boolean') return tls;
  const options: ConnectionOptions = { rejectUnauthorized: tls.reject_unauthorized };
  if (tls.ca_file !== undefined) options.ca = readPem('ca_file', tls.ca_file);
  if (tls.cert_file !== undefined) options.cert = readPem('cert_file', tls.cert_file);
  if (tls.key_file !== undefined) options.key = readPem('key_file', tls.key_file);
  if (tls.passphrase !== undefined) options.passphrase = tls.passphrase;
  if (tls.server_name !== undefined) options.servername = tls.server_name;
  return options;
}

/** kafkajs's `sasl` option from the config's `auth` (undefined for none). */
export function saslOptions(auth: KafkaConnection['auth']): SASLOptions | undefined {
  switch (auth.type) {
    case 'none':
      return undefined;
    case 'sasl_plain':
      return { mechanism: 'plain', username: auth.username, password: auth.password };
    case 'sasl_scram':
      return auth.mechanism === 'SCRAM-SHA-512'
        ? { mechanism: 'scram-sha-512', username: auth.username, password: auth.password }
        : { mechanism: 'scram-sha-256', username: auth.username, password: auth.password };
  }
}

const LEVELS: Record<number, string> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/** A kafkajs logCreator that hands every line to `logger.debug`, secrets scrubbed. */
function logCreatorFor(logger: Logger, redactor: Redactor): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, timestamp: _t, logger: _l, ...rest } = log as { message: string } & JsonObject;
      let fields: JsonObject = {};
      try {
        fields = redactor.redactValue(JSON.parse(JSON.stringify(rest)) as JsonObject) as JsonObject;
      } catch {
        fields = {};
      }
      logger.debug(`kafkajs ${LEVELS[level] ?? 'log'}: ${redactor.redact(String(message))}`, fields);
    };
}

/** A kafkajs client for the config's brokers, with its auth and TLS. */
export function createKafka(connection: KafkaConnection, options: KafkaClientOptions): Kafka {
  const sasl = saslOptions(connection.auth);
  const config: KafkaConfig = {
    clientId: connection.client_id,
    brokers: brokerList(connection.brokers),
    ssl: tlsOptions(connection.tls),
    connectionTimeout: connection.connect_timeout_ms,
    requestTimeout: connection.request_timeout_ms,
    logLevel: logLevel.INFO,
    logCreator: logCreatorFor(options.logger, options.redactor),
    retry: { retries: options.retries ?? 5 },
  };
  if (sasl) config.sasl = sasl;
  return new Kafka(config);
}
