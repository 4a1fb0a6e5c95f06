/** `@faucet/common-s3`: what @faucet/source-s3 and @faucet/sink-s3 share. Not a connector. */
export {
  createS3Client,
  credentialsIssue,
  endpointName,
  regionOf,
  type S3Connection,
  s3ConnectionShape,
} from './connection.js';
export {
  CONNECTOR,
  httpStatus,
  isNotFound,
  isPreconditionFailed,
  mapS3Error,
  type S3ErrorMapping,
  s3ErrorCode,
} from './errors.js';
export { type KeyFilter, keyFilter } from './glob.js';
