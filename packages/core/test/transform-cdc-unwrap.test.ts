import { describe, expect, it } from 'vitest';
import { createTransform, type FaucetRecord, TransformError } from '../src/index.js';

const base = { schema: 'public', table: 'items', lsn: '0/16B3748', commit_ts: '2026-11-21T07:00:00.000000Z' };

describe('cdc_unwrap', () => {
  it('turns inserts, updates and snapshot reads into their after image', async () => {
    const unwrap = await createTransform({ type: 'cdc_unwrap' });
    const after = { id: 1, name: 'a' };
    for (const op of ['insert', 'update', 'read']) {
      expect(unwrap({ ...base, op, key: { id: 1 }, before: null, after })).toEqual(after);
    }
  });

  it('turns a delete into its before image, or its key, marked with __op: delete', async () => {
    const unwrap = await createTransform({ type: 'cdc_unwrap' });
    expect(
      unwrap({ ...base, op: 'delete', key: { id: 1 }, before: { id: 1, name: 'a' }, after: null }),
    ).toEqual({
      id: 1,
      name: 'a',
      __op: 'delete',
    });
    expect(unwrap({ ...base, op: 'delete', key: { id: 2 }, before: null, after: null })).toEqual({
      id: 2,
      __op: 'delete',
    });
  });

  it('can mark every row and use another field name', async () => {
    const unwrap = await createTransform({
      type: 'cdc_unwrap',
      config: { op_field: 'op', op_on_every_row: true },
    });
    expect(unwrap({ ...base, op: 'update', key: { id: 1 }, before: null, after: { id: 1 } })).toEqual({
      id: 1,
      op: 'update',
    });
  });

  it('fails on a truncate by default, naming the table, and drops it when told to', async () => {
    const unwrap = await createTransform({ type: 'cdc_unwrap' });
    const truncate: FaucetRecord = { ...base, op: 'truncate', key: null, before: null, after: null };
    expect(() => unwrap(truncate)).toThrow(TransformError);
    expect(() => unwrap(truncate)).toThrow(/public\.items at 0\/16B3748 was truncated.*on_truncate: drop/);
    const dropping = await createTransform({ type: 'cdc_unwrap', config: { on_truncate: 'drop' } });
    expect(dropping(truncate)).toBeNull();
  });

  it('names what is wrong with a record that is not a change event', async () => {
    const unwrap = await createTransform({ type: 'cdc_unwrap' });
    expect(() => unwrap({ id: 1 })).toThrow(/expected a change event with op .* got null/);
    expect(() => unwrap({ ...base, op: 'insert', after: null })).toThrow(
      /insert event for public\.items .* no "after"/,
    );
    expect(() => unwrap({ ...base, op: 'delete', before: null, key: null })).toThrow(/REPLICA IDENTITY FULL/);
  });

  it('rejects an unknown on_truncate value at load time', async () => {
    await expect(
      createTransform({ type: 'cdc_unwrap', config: { on_truncate: 'ignore' } }, 't[0]'),
    ).rejects.toThrow(/t\[0\]\.config\.on_truncate/);
  });
});
