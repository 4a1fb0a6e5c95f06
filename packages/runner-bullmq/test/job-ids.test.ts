import { describe, expect, it } from 'vitest';
import { jobIdFor, stateKeyOf } from '../src/job-ids.js';

describe('job ids from state keys', () => {
  it('hold no ":" (BullMQ refuses it) and map back to the state key', () => {
    for (const key of ['orders::row-0', 'shop::users::42', 'a.b-c_d::x:y']) {
      const id = jobIdFor(key);
      expect(id).not.toContain(':');
      expect(stateKeyOf(id)).toBe(key);
    }
  });

  it('are the same for the same state key, so a resubmission finds the job already there', () => {
    expect(jobIdFor('orders::eu')).toBe(jobIdFor('orders::eu'));
    expect(jobIdFor('orders::eu')).not.toBe(jobIdFor('orders::us'));
  });
});
