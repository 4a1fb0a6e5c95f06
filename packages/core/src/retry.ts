// Retry helper (filled in by the retry work).
export {};
