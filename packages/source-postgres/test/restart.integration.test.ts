/**
 * A server restart (`pg_ctl restart -m fast`) while the source holds its connection between two
 * pages — a cursor's transaction, or a COPY the server is still writing: the read fails with a
 * ConnectionError naming the server, nothing crashes the process (vitest fails a file on an unhandled
 * 'error' event), and a new read resumes from the bookmark.
 * Runs on a private PostgreSQL of its own (@faucet/test-support), never the shared one.
 */
import { ErrorCodes, isFaucetError, type JsonValue, type Page } from '@faucet/core';
import { createPostgresSource } from '@faucet/source-postgres';
import { usePrivatePostgres } from '@faucet/test-support';
import { expect, it } from 'vitest';
import { openRead, readAll, withPostgres } from './helpers.js';

const PAGE = 500;

withPostgres('postgres source when its server restarts', () => {
  const privatePg = usePrivatePostgres();

  // A COPY needs more rows than the socket buffers hold, or it has ended before the restart.
  const cases = [
    { method: 'cursor', rows: 3_000, table: 'src_cursor', cause: 'SQLSTATE 57P01' },
    { method: 'copy', rows: 200_000, table: 'src_copy', cause: undefined },
  ] as const;
  for (const { method, rows, table, cause } of cases) {
    it(`${method}: fails the read cleanly, naming the server; a new read resumes after the bookmark`, async () => {
      const server = privatePg.server;
      await server.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
      await server.query(
        `INSERT INTO ${table} SELECT g, repeat('n', 100) || g FROM generate_series(1, ${rows}) g`,
      );
      const source = createPostgresSource({
        connection_url: server.url,
        table,
        replication_method: { type: 'Incremental', cursor_field: 'id' },
        batch_size: PAGE,
        read_method: method,
      });
      try {
        const pages = openRead(source, { batchSize: PAGE });
        const first = await pages.next();
        const bookmark = (first.value as Page).bookmark as JsonValue;
        expect((first.value as Page).records).toHaveLength(PAGE);

        // The source's connection sits checked out, inside its transaction, between two pages.
        await server.restart();
        const error = await (async () => {
          for (let next = await pages.next(); !next.done; next = await pages.next()) {
            // pages buffered before the restart may still come
          }
        })().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isFaucetError(error), String(error)).toBe(true);
        const failure = error as Error & { code: string };
        expect(failure.code).toBe(ErrorCodes.CONNECTION_FAILED);
        expect(failure.message).toContain(`127.0.0.1:${server.port}`);
        if (cause) expect(failure.message).toContain(cause);

        const rest = await readAll(source, { bookmark, batchSize: 10_000 });
        const ids = rest.flatMap((page) => page.records.map((record) => record.id));
        expect(ids).toEqual(Array.from({ length: rows - PAGE }, (_, i) => PAGE + i + 1));
      } finally {
        await source.close?.();
      }
    });
  }
});
