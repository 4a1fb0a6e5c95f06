export { type FailingSink, type FailingSinkOptions, failingSink, InjectedFailure } from './failing-sink.js';
export {
  type FailingStateStore,
  type FailingStateStoreOptions,
  failingStateStore,
} from './failing-state-store.js';
export {
  type MemorySink,
  type MemorySinkOptions,
  type MemorySinkStorage,
  memorySink,
  memorySinkStorage,
} from './memory-sink.js';
export {
  type BookmarkMode,
  type MemorySource,
  type MemorySourceOptions,
  memorySource,
} from './memory-source.js';
