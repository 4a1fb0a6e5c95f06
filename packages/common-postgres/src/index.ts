/**
 * @faucet/common-postgres: internal helpers shared by the faucet PostgreSQL packages
 * (`@faucet/source-postgres`, `@faucet/sink-postgres`, `@faucet/state-postgres`). Not a connector.
 */
export {
  connectionUrlSchema,
  connectTimeoutMsSchema,
  createOwnedPool,
  type OwnedPool,
  type OwnedPoolOptions,
  serverName,
} from './connection.js';
export {
  CONNECTOR,
  isServerError,
  isSqlState,
  mapPgError,
  networkReason,
  type PgErrorMapping,
  redactPgError,
  type ServerError,
  type SourceErrorContext,
  wrapSourcePgError,
} from './errors.js';
export { failureOf, guardClient, lostConnection } from './guard.js';
export { parseQualifiedName, quoteIdent, quoteQualified } from './identifiers.js';
export {
  type ArrayType,
  jsonSchemaFor,
  loadArrayTypes,
  Oid,
  parseArrayLiteral,
  parseBytea,
  parseFloatValue,
  parserFor,
  parseTimestamp,
  parseTimestamptz,
  queryTypes,
  type ValueParser,
} from './types.js';
