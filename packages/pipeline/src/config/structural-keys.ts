/** The keys each structural block of a pipeline file allows, for "did you mean" hints: read off the schemas. */
import {
  connectorBlockSchema,
  dlqSchema,
  executionSchema,
  matrixRowSchema,
  pipelineBlockSchema,
  pipelineFileSchema,
} from './schema.js';

const TOP = Object.keys(pipelineFileSchema.shape);
const PIPELINE = Object.keys(pipelineBlockSchema.shape);
const ROW = Object.keys(matrixRowSchema.shape);
const CONNECTOR = Object.keys(connectorBlockSchema.shape);
const DLQ = Object.keys(dlqSchema.shape);
const EXECUTION = Object.keys(executionSchema.shape);

export function structuralKeysAt(path: string): string[] {
  if (path === '') return TOP;
  if (path === 'pipeline') return PIPELINE;
  if (path === 'execution') return EXECUTION;
  if (/^matrix\[\d+\]$/.test(path)) return ROW;
  if (/\.dlq$/.test(path)) return DLQ;
  if (/\.(?:source|sink|state)$/.test(path) || /\.transforms\[\d+\]$/.test(path)) return CONNECTOR;
  return [];
}
