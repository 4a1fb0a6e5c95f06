import { expect, it } from 'vitest';
import { createBigQuerySink } from '../src/index.js';
import { useDataset, withEmulator } from './emulator.js';

withEmulator('emu', () => {
  const ds = useDataset('smoke');
  it('round trips', async () => {
    const sink = createBigQuerySink(ds.config('t', { create_table: true }));
    expect(
      await sink.write(
        [
          { id: 1, name: 'a', big: '9223372036854775807', n: '123.45', j: { a: [1] } },
          { id: 2, name: 'b', big: '5', n: '1', j: null },
        ],
        {} as never,
      ),
    ).toEqual({});
    await sink.close();
    const load = createBigQuerySink(ds.config('t', { write_method: 'load' }));
    await load.write([{ id: 3, name: 'c', big: '7', n: '2.5', j: { b: 2 } }], {} as never);
    await load.flush?.();
    await load.close();
    const up = createBigQuerySink(
      ds.config('t', { write_mode: 'upsert', key: ['id'], delete_marker: { field: 'gone' } }),
    );
    await up.write(
      [
        { id: 1, name: 'a2' },
        { id: 2, gone: true },
        { id: 4, name: 'd', big: '1' },
      ],
      {} as never,
    );
    await up.close();
    console.log(JSON.stringify(await ds.rows('t')));
    console.log(
      JSON.stringify(
        await ds.query(`SELECT CAST(big AS STRING) big, CAST(n AS STRING) n FROM ${ds.name}.t ORDER BY id`),
      ),
    );
  });
});
