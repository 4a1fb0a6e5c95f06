/**
 * Test helpers shared by this repository's packages; private, never published (connector packages
 * do not import each other, so what their tests share lives here).
 */

export {
  committedOffsets,
  createTopic,
  deleteTopics,
  KAFKA_SERVICE,
  kafkaSasl,
  kafkaTls,
  produce,
  type ReadMessage,
  readTopic,
  type TestMessage,
  testKafka,
  uniqueName,
  withAdmin as withKafkaAdmin,
  withKafka,
} from './kafka.js';
export { killHard, spawnLockHolder } from './lock-holder.js';
export { useSchema } from './postgres.js';
export { POSTGRES_SERVICE, REDIS_SERVICE, withPostgres, withRedis } from './services.js';
