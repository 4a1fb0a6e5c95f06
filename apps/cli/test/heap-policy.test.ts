import { describe, expect, it } from 'vitest';
import { DEFAULT_HEAP_GROWING_PERCENT, heapGrowingPercent } from '../src/heap-policy.js';

describe('the heap growth policy', () => {
  it('bounds growth by default', () => {
    expect(heapGrowingPercent([], {})).toBe(DEFAULT_HEAP_GROWING_PERCENT);
    expect(DEFAULT_HEAP_GROWING_PERCENT).toBe(50);
  });

  it('takes FAUCET_HEAP_GROWING_PERCENT; 0 leaves V8 alone; nonsense keeps the default', () => {
    expect(heapGrowingPercent([], { FAUCET_HEAP_GROWING_PERCENT: '100' })).toBe(100);
    expect(heapGrowingPercent([], { FAUCET_HEAP_GROWING_PERCENT: '0' })).toBeUndefined();
    expect(heapGrowingPercent([], { FAUCET_HEAP_GROWING_PERCENT: 'lots' })).toBe(50);
    expect(heapGrowingPercent([], { FAUCET_HEAP_GROWING_PERCENT: '-5' })).toBe(50);
  });

  it('leaves a --heap-growing-percent given to node itself alone', () => {
    expect(heapGrowingPercent(['--heap-growing-percent=20'], {})).toBeUndefined();
    expect(
      heapGrowingPercent(['--heap_growing_percent=20'], { FAUCET_HEAP_GROWING_PERCENT: '80' }),
    ).toBeUndefined();
  });
});
