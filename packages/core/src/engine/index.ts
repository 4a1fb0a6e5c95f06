export * from './run-pipeline.js';
export * from './options.js';
export * from './commit-token.js';
export * from './dlq.js';
