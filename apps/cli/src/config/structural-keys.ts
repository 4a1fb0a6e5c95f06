/** The keys each structural block of a pipeline file allows, for "did you mean" hints. */
const TOP = ['version', 'name', 'pipeline', 'matrix', 'execution'];
const PIPELINE = [
  'source',
  'transforms',
  'sink',
  'state',
  'dlq',
  'batch_size',
  'delivery',
  'checkpoint_every',
];
const ROW = ['id', 'parent', 'parent_key', 'depends_on', ...PIPELINE];
const CONNECTOR = ['type', 'config'];
const DLQ = ['sink', 'on_batch_error', 'max_failures_per_page', 'max_failures_total'];
const EXECUTION = ['max_concurrent', 'on_error'];

export function structuralKeysAt(path: string): string[] {
  if (path === '') return TOP;
  if (path === 'pipeline') return PIPELINE;
  if (path === 'execution') return EXECUTION;
  if (/^matrix\[\d+\]$/.test(path)) return ROW;
  if (/\.dlq$/.test(path)) return DLQ;
  if (/\.(?:source|sink|state)$/.test(path) || /\.transforms\[\d+\]$/.test(path)) return CONNECTOR;
  return [];
}
