// Built-in transforms (filled in by the transforms work).
export {};
