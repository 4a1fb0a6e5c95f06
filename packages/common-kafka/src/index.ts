/**
 * @faucet/common-kafka: internal helpers shared by the faucet Kafka packages (`@faucet/source-kafka`,
 * `@faucet/sink-kafka`). Not a connector.
 */
export { createKafka, type KafkaClientOptions, saslOptions, tlsOptions } from './client.js';
export {
  brokerList,
  brokerNames,
  durationMs,
  durationSchema,
  type KafkaAuth,
  type KafkaConnection,
  type KafkaTls,
  kafkaAuthSchema,
  kafkaConnectionShape,
  kafkaTlsSchema,
} from './config.js';
export {
  type KafkaErrorContext,
  kafkaErrorType,
  mapKafkaError,
  rootKafkaError,
} from './errors.js';
export { isCoordinatorMoving, isRetriableKafkaError, type KafkaRetryOptions, retryKafka } from './retry.js';
export { createTopicAndWait } from './topics.js';
