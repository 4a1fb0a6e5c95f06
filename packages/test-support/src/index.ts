/**
 * Test helpers shared by this repository's packages; private, never published (connector packages
 * do not import each other, so what their tests share lives here).
 */
export { recordingLogger, refusal, sleep } from './assertions.js';
export { killHard, spawnLockHolder } from './lock-holder.js';
export { useSchema } from './postgres.js';
export {
  freePort,
  type PrivatePostgres,
  type PrivateRedis,
  startPrivatePostgres,
  startPrivateRedis,
  usePrivatePostgres,
  usePrivateRedis,
} from './private-servers.js';
export { POSTGRES_SERVICE, REDIS_SERVICE, withPostgres, withRedis } from './services.js';
