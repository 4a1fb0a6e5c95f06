/**
 * Reading through `COPY (<query>) TO STDOUT` (text format), streamed: the server sends rows as fast
 * as they are read here, the socket is paused while the run has a page in hand (pg-copy-streams
 * stops reading it), so memory holds about one page plus the socket's buffers, never the result.
 * Faster than FETCH: no round trip per page, and rows are decoded from one string per chunk.
 *
 * COPY takes no bind parameters: the keyset values are written into the SQL as quoted literals
 * (`pg.escapeLiteral`), which Postgres types from their context exactly as it types a parameter sent
 * as text, so the rows are the ones the cursor would read. The column names and types come from the
 * same query with `LIMIT 0`.
 */
import { to as copyTo } from 'pg-copy-streams';
import type { PostgresPoolClient } from './client.js';
import { CopyTextDecoder } from './copy-text.js';
import type { Row, RowReader } from './pages.js';
import type { ParserTypes } from './snapshot.js';

/** What COPY needs of the connection: a real `pg` client, which runs a submittable query. */
interface SubmittingClient {
  query<T>(submittable: T): T;
}

export interface CopyReader extends RowReader {
  /** Whether the COPY has ended (all rows read, or it failed): the connection is usable again. */
  ended(): boolean;
  /** Stop a COPY that has not ended; its connection must then be destroyed, not reused. */
  abandon(): void;
}

/** Start streaming `text` (a complete SELECT, values inlined) through COPY. */
export async function openCopyReader(
  client: PostgresPoolClient,
  text: string,
  types: ParserTypes,
): Promise<CopyReader> {
  const described = await client.query({ text: `${text} LIMIT 0`, rowMode: 'array' });
  const names = described.fields.map((f) => f.name);
  const decoder = new CopyTextDecoder(described.fields.map((f) => types.getTypeParser(f.dataTypeID)));
  const stream = (client as unknown as SubmittingClient).query(copyTo(`COPY (${text}) TO STDOUT`));
  const chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let queue: Row[] = [];
  let ended = false;

  async function fill(count: number): Promise<void> {
    while (!ended && queue.length < count) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (error) {
        ended = true;
        throw error;
      }
      if (next.done) {
        ended = true;
        decoder.end();
      } else {
        const rows = decoder.push(next.value);
        queue = queue.length === 0 ? rows : queue.concat(rows);
      }
    }
  }

  return {
    names: () => names,
    async fetch(count) {
      await fill(count);
      if (queue.length <= count) {
        const all = queue;
        queue = [];
        return all;
      }
      return queue.splice(0, count);
    },
    ended: () => ended,
    abandon() {
      if (ended) return;
      ended = true;
      // The connection is destroyed next; its "connection terminated" must not surface as an
      // unhandled 'error' event.
      stream.on('error', () => {});
      stream.destroy();
    },
  };
}
