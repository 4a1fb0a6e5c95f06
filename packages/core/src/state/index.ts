export { assertLockTtl, encodeStateValue } from './common.js';
export {
  createFileStateStore,
  type FileStateStoreConfig,
  type FileStateStoreOptions,
  fileStateStore,
  fileStateStoreConfigSchema,
} from './file.js';
export { JOURNAL_MIN_BYTES, type JournalRead, lastJournalRecord } from './journal.js';
export * from './keys.js';
export {
  currentLockOwner,
  describeLockOwner,
  isPidAlive,
  type LockOwner,
  type LockOwnerLiveness,
  lockOwnerLiveness,
  markLockHeld,
  unmarkLockHeld,
} from './lock-owner.js';
export {
  createMemoryStateStore,
  type MemoryStateStoreConfig,
  memoryStateStore,
  memoryStateStoreConfigSchema,
} from './memory.js';
export { createKeyedWriteQueue, type KeyedWriteQueue } from './write-queue.js';
