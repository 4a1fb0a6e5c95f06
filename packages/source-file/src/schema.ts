/** The schema guess moved to @faucet/formats (the S3 source shares it); re-exported for compatibility. */
export { inferSchema } from '@faucet/formats';
