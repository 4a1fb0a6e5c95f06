/**
 * A server restart (`pg_ctl restart -m fast`) while the source holds its cursor between two pages:
 * the read fails with a ConnectionError naming the server and the cause, nothing crashes the process
 * (vitest fails a file on an unhandled 'error' event), and a new read resumes from the bookmark.
 * Runs on a private PostgreSQL of its own (@faucet/test-support), never the shared one.
 */
import { ErrorCodes, isFaucetError, type JsonValue, type Page } from '@faucet/core';
import { createPostgresSource } from '@faucet/source-postgres';
import { usePrivatePostgres } from '@faucet/test-support';
import { expect, it } from 'vitest';
import { readAll, withPostgres } from './helpers.js';

const ROWS = 3_000;
const PAGE = 500;

withPostgres('postgres source when its server restarts', () => {
  const privatePg = usePrivatePostgres();

  it('fails the read cleanly, naming the server and the cause; a new read resumes after the bookmark', async () => {
    const server = privatePg.server;
    await server.query('CREATE TABLE src (id int PRIMARY KEY, name text NOT NULL)');
    await server.query(`INSERT INTO src SELECT g, 'n' || g FROM generate_series(1, ${ROWS}) g`);
    const source = createPostgresSource({
      connection_url: server.url,
      table: 'src',
      replication_method: { type: 'Incremental', cursor_field: 'id' },
      batch_size: PAGE,
    });
    try {
      const pages = source
        .read({
          bookmark: undefined,
          batchSize: PAGE,
          signal: new AbortController().signal,
          logger: { debug() {}, info() {}, warn() {}, error() {} },
        })
        [Symbol.asyncIterator]();
      const first = await pages.next();
      const bookmark = (first.value as Page).bookmark as JsonValue;
      expect((first.value as Page).records).toHaveLength(PAGE);

      // The source's connection sits checked out, idle, inside its cursor's transaction.
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
      expect(failure.message).toContain('SQLSTATE 57P01');

      const rest = await readAll(source, { bookmark, batchSize: PAGE });
      const ids = rest.flatMap((page) => page.records.map((record) => record.id));
      expect(ids).toEqual(Array.from({ length: ROWS - PAGE }, (_, i) => PAGE + i + 1));
    } finally {
      await source.close?.();
    }
  });
});
