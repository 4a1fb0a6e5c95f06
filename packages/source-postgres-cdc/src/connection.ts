/**
 * What every part of the CDC source shares: the config, logger and redactor, the mapping of client
 * errors to FaucetErrors that name `host:port` (never the password), and plain connections of our own.
 */
import { guardClient, serverName, wrapSourcePgError } from '@faucet/common-postgres';
import { type FaucetError, type Logger, type Redactor, SourceError } from '@faucet/core';
import pg from 'pg';
import type { PostgresCdcConfig } from './config.js';

export const CONNECTOR = 'postgres-cdc';
export const APPLICATION_NAME = 'faucet-source-postgres-cdc';

export interface CdcEnv {
  config: PostgresCdcConfig;
  logger: Logger;
  redactor: Redactor;
  /** `host:port`, for messages. */
  server: string;
  slot: string;
  /** A client error as a FaucetError saying what was being done (a CancelledError once `signal` aborted). */
  wrap(error: unknown, action: string, signal?: AbortSignal): FaucetError;
  /** A SourceError naming the connector and server. */
  fail(message: string): SourceError;
  /** A client of our own; `onLost` hears when its connection breaks (a server restart, a network failure). */
  connect(action?: string, onLost?: (error: Error) => void): Promise<pg.Client>;
}

export function createCdcEnv(config: PostgresCdcConfig, logger: Logger, redactor: Redactor): CdcEnv {
  const server = serverName(config.connection_url);

  const wrap = (error: unknown, action: string, signal?: AbortSignal): FaucetError =>
    wrapSourcePgError(error, {
      name: `${CONNECTOR} source`,
      server,
      action,
      serverText: (e) => `${e.message} (SQLSTATE ${e.code})${e.hint ? `; hint: ${e.hint}` : ''}`,
      connector: CONNECTOR,
      redactor,
      signal,
    });

  const fail = (message: string): SourceError =>
    new SourceError(`${CONNECTOR} source (${server}): ${message}`, { connector: CONNECTOR });

  async function connect(action = 'connecting', onLost?: (error: Error) => void): Promise<pg.Client> {
    const client = new pg.Client({
      connectionString: config.connection_url,
      application_name: APPLICATION_NAME,
      connectionTimeoutMillis: config.connect_timeout_ms,
    });
    guardClient(client, (error) => {
      logger.warn(`${CONNECTOR}: a connection failed`, { error: redactor.redact(error.message) });
      onLost?.(error);
    });
    try {
      await client.connect();
    } catch (error) {
      await client.end().catch(() => {});
      throw wrap(error, action);
    }
    return client;
  }

  return { config, logger, redactor, server, slot: config.slot_name, wrap, fail, connect };
}
