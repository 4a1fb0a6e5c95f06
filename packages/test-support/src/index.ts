/**
 * Test helpers shared by this repository's packages; private, never published (connector packages
 * do not import each other, so what their tests share lives here).
 */
export { recordingLogger, refusal, sleep } from './assertions.js';
export { CHROMIUM_HINT, chromiumArgs, chromiumPath, withChromium } from './chromium.js';
export {
  type CollectionRecord,
  type CollectionsServer,
  startCollectionsServer,
} from './collections-server.js';
export {
  countDocs,
  ELASTICSEARCH_BOOT_MS,
  ELASTICSEARCH_SERVICE,
  type EsAuth,
  type EsResponse,
  esRequest,
  type StrictNode,
  searchAll,
  startStrictNode,
  stopStrictNode,
  useIndices,
  waitForElasticsearch,
  withElasticsearch,
} from './elasticsearch.js';
export {
  cleanupTempDirs,
  FAKE_SINK,
  FAKE_SOURCE,
  type FixturePackage,
  fakePluginDir,
  linkRuntime,
  tempDir,
  write,
  writePackage,
} from './fixtures.js';
export { type JsonlIdTally, missingIds, tallyJsonlIds } from './jsonl-ids.js';
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
export {
  freePort,
  type PrivatePostgres,
  type PrivateRedis,
  startPrivatePostgres,
  startPrivateRedis,
  usePrivatePostgres,
  usePrivateRedis,
} from './private-servers.js';
export {
  emptyBucket,
  listKeys,
  openUploads,
  putObject,
  randomBucketName,
  S3_SERVICE,
  type S3TestConnection,
  s3TestClient,
  s3TestConnection,
  useBucket,
  withS3,
} from './s3.js';
export { readPart, readParts } from './s3-parts.js';
export { POSTGRES_SERVICE, REDIS_SERVICE, withPostgres, withRedis } from './services.js';
