// Incremental replication helpers (filled in by the incremental work).
export {};
