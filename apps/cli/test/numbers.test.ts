import { describe, expect, it } from 'vitest';
import { formatCount } from '../src/numbers.js';

describe('formatCount', () => {
  it('writes what toLocaleString("en-US") writes for whole counts', () => {
    const values = [0, 1, 12, 123, 999, 1000, 1001, 12_345, 999_999, 1_000_000, 1_234_567_890];
    for (let i = 0; i < 2000; i++) values.push(Math.floor(Math.random() * 10 ** (1 + (i % 15))));
    for (const n of values) {
      expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
      expect(formatCount(-n || 0)).toBe((-n || 0).toLocaleString('en-US'));
    }
  });

  it('rounds fractions as the progress line did', () => {
    expect(formatCount(1234.4)).toBe('1,234');
    expect(formatCount(1234.5)).toBe('1,235');
    expect(formatCount(Number.MAX_SAFE_INTEGER * 4)).toBe(
      (Number.MAX_SAFE_INTEGER * 4).toLocaleString('en-US'),
    );
  });
});
