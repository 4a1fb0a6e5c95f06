// Incremental replication helpers for connector authors (ARCHITECTURE §4).

export {
  type CursorFilter,
  type CursorFilterOptions,
  type CursorFilterStats,
  type CursorValue,
  compareCursor,
  createCursorFilter,
  createRunningMax,
  cursorValue,
  type RunningMax,
  type RunningMaxOptions,
} from './cursor.js';
export { type PaginateCheckpoint, type PaginateOptions, paginateRecords } from './paginate.js';
export {
  checkpointIntervalSchema,
  cursorFieldSchema,
  fullTableReplicationSchema,
  type IncrementalReplication,
  incrementalReplicationSchema,
  primaryKeysSchema,
  type ReplicationMethod,
  replicationMethodSchema,
  resolveStartBookmark,
} from './replication.js';
export {
  isPartialWindow,
  MAX_TIME_WINDOWS,
  type ReadSlicesOptions,
  readSlices,
  type SliceContext,
  type SlicePage,
  type SlicesBookmark,
  type TimeWindow,
  timeWindows,
} from './slices.js';
