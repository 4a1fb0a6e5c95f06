export * from './commit-token.js';
export * from './dlq.js';
export * from './options.js';
export * from './run-pipeline.js';
