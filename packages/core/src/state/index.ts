export { assertLockTtl, encodeStateValue } from './common.js';
export {
  createFileStateStore,
  type FileStateStoreConfig,
  type FileStateStoreOptions,
  fileStateStore,
  fileStateStoreConfigSchema,
} from './file.js';
export * from './keys.js';
export {
  createMemoryStateStore,
  type MemoryStateStoreConfig,
  memoryStateStore,
  memoryStateStoreConfigSchema,
} from './memory.js';
