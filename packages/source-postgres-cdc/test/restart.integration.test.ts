/**
 * A server restart (`pg_ctl restart -m fast`) while the source streams. A fast shutdown waits for
 * every walsender, and a logical walsender waits for its client to confirm what it sent, which faucet
 * never does before the engine has stored it: the source must notice the restart itself (its other
 * connection is terminated) and end the stream. The read fails at once with a ConnectionError naming
 * the server and the cause, instead of idling until idle_timeout and ending "ok"; nothing crashes the
 * process; a new read resumes after the last bookmark. Runs on a private PostgreSQL of its own
 * (@faucet/test-support), never the shared one.
 */
import { ErrorCodes, isFaucetError, type JsonValue, type Page } from '@faucet/core';
import { createPostgresCdcSource } from '@faucet/source-postgres-cdc';
import { usePrivatePostgres } from '@faucet/test-support';
import { expect, it } from 'vitest';
import { withPostgres } from './helpers.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

withPostgres('postgres-cdc source when its server restarts', () => {
  const privatePg = usePrivatePostgres();

  it('fails the stream at once, naming the server and the cause; a new read resumes after the bookmark', async () => {
    const server = privatePg.server;
    await server.query('CREATE TABLE t (id int PRIMARY KEY, name text)');
    await server.query('CREATE PUBLICATION pub FOR TABLE t');
    // idle_timeout far beyond the test's timeout: ending on idleness would fail the test.
    const config = {
      connection_url: server.url,
      slot_name: 'restart_slot',
      publication_name: 'pub',
      idle_timeout: '10m',
    } as const;
    const source = createPostgresCdcSource(config);
    let bookmark: JsonValue | undefined;
    const ctx = (from: JsonValue | undefined) => ({
      bookmark: from,
      batchSize: 100,
      signal: new AbortController().signal,
      logger: quiet,
      durableState: true,
    });
    try {
      const pages = source.read(ctx(undefined))[Symbol.asyncIterator]();
      // Stands for the engine: a page's bookmark is stored (and confirmed) once the page is written.
      let confirming = true;
      const next = async (): Promise<Page> => {
        const result = await pages.next();
        if (result.done) throw new Error('the stream ended');
        const page = result.value;
        if (page.bookmark !== undefined && confirming) {
          bookmark = page.bookmark;
          source.onCheckpoint?.(page.bookmark, {});
        }
        return page;
      };
      // The (empty) snapshot, then streaming: wait for the first change to come through.
      let page = await next();
      while ((page.bookmark as { kind?: string } | undefined)?.kind !== 'lsn') page = await next();
      await server.query(`INSERT INTO t VALUES (1, 'a')`);
      // The restart comes while this page is being written: its bookmark is not stored yet, so the
      // slot is not confirmed past it and the walsender has something unconfirmed to wait for.
      confirming = false;
      do page = await next();
      while (page.records.length === 0);
      expect(page.records[0]).toMatchObject({ op: 'insert', after: { id: 1, name: 'a' } });

      const failed = (async () => {
        for (;;) await next();
      })().then(
        () => undefined,
        (error: unknown) => error,
      );
      await server.restart();
      const error = await failed;
      expect(isFaucetError(error), String(error)).toBe(true);
      const failure = error as Error & { code: string };
      expect(failure.code).toBe(ErrorCodes.CONNECTION_FAILED);
      expect(failure.message).toContain(`127.0.0.1:${server.port}`);
      expect(failure.message).toContain('SQLSTATE 57P01');

      await server.query(`INSERT INTO t VALUES (2, 'b')`);
      // The unstored page comes again (at-least-once), then what came after.
      const resumed = createPostgresCdcSource({ ...config, idle_timeout: '2s' });
      const after: unknown[] = [];
      for await (const more of resumed.read(ctx(bookmark))) {
        for (const record of more.records) after.push(record);
        if (more.bookmark !== undefined) resumed.onCheckpoint?.(more.bookmark, {});
      }
      await resumed.close?.();
      expect(after).toEqual([
        expect.objectContaining({ op: 'insert', after: { id: 1, name: 'a' } }),
        expect.objectContaining({ op: 'insert', after: { id: 2, name: 'b' } }),
      ]);
    } finally {
      await source.close?.();
    }
  });
});
