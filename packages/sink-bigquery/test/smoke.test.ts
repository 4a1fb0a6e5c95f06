import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeBigQuery } from './fake-bigquery.js';
import { fakeSink, PROJECT, uniqueName } from './helpers.js';

let fake: FakeBigQuery;
beforeAll(async () => {
  fake = await FakeBigQuery.start();
});
afterAll(() => fake.close());

it('insert_all and load round trip on the fake', async () => {
  const ds = uniqueName('smoke');
  fake.createDataset(PROJECT, ds);
  const sink = fakeSink(fake, ds, { create_table: true });
  const r = await sink.write(
    [
      { id: 1, name: 'a', big: '9223372036854775807' },
      { id: 2, name: 'b', big: '5' },
    ],
    {} as never,
  );
  expect(r).toEqual({});
  await sink.close();
  console.log(
    JSON.stringify(fake.table(PROJECT, ds, 'events')?.fields),
    JSON.stringify(fake.rows(PROJECT, ds, 'events')),
  );
  const load = fakeSink(fake, ds, { write_method: 'load' });
  await load.write([{ id: 3, name: 'c', big: '7' }], {} as never);
  await load.flush?.();
  await load.close();
  console.log(JSON.stringify(fake.rows(PROJECT, ds, 'events')), fake.jobOrder);
});
