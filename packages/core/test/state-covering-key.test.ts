/** coveringKey: which held lock guards a write of a key. */
import { describe, expect, it } from 'vitest';
import { coveringKey } from '../src/index.js';

describe('coveringKey', () => {
  it('is the key itself, else the most specific held key it lies under', () => {
    const held = ['orders::row-0', 'orders::row-0::p7', 'users::row-0'];
    expect(coveringKey(held, 'orders::row-0')).toBe('orders::row-0');
    expect(coveringKey(held, 'orders::row-0::p7')).toBe('orders::row-0::p7');
    expect(coveringKey(held, 'orders::row-0::p7::x')).toBe('orders::row-0::p7');
    expect(coveringKey(held, 'orders::row-0::p1')).toBe('orders::row-0');
  });

  it('covers nothing outside: other rows, and keys that only share a prefix of characters', () => {
    const held = ['orders::row-0'];
    expect(coveringKey(held, 'orders::row-01')).toBeUndefined();
    expect(coveringKey(held, 'orders::row-1')).toBeUndefined();
    expect(coveringKey([], 'orders::row-0')).toBeUndefined();
  });
});
