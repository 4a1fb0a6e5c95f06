/**
 * Reading through a server-side cursor: `DECLARE … CURSOR` inside the read's snapshot transaction,
 * then `FETCH FORWARD n` a page at a time. Used where COPY cannot be: a query with bind parameters.
 */
import type { PostgresPoolClient } from './client.js';
import type { Row, RowReader } from './pages.js';
import type { ReadQuery } from './query.js';
import type { ParserTypes } from './snapshot.js';

const CURSOR_NAME = 'faucet_read';

/** Declare the cursor over `query` (the snapshot transaction is open) and read it page by page. */
export async function openCursorReader(
  client: PostgresPoolClient,
  query: ReadQuery,
  types: ParserTypes,
): Promise<RowReader> {
  await client.query({
    text: `DECLARE ${CURSOR_NAME} NO SCROLL CURSOR FOR ${query.text}`,
    values: query.values,
  });
  let names: string[] = [];
  return {
    names: () => names,
    async fetch(count) {
      const result = await client.query({
        text: `FETCH FORWARD ${count} FROM ${CURSOR_NAME}`,
        rowMode: 'array',
        types,
      });
      names = result.fields.map((f) => f.name);
      return result.rows as Row[];
    },
  };
}
