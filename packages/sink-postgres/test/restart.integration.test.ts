/**
 * A server restart (`pg_ctl restart -m fast`) while a write is in flight: the write fails with a
 * ConnectionError naming the server and the cause, nothing crashes the process (vitest fails a file
 * on an unhandled 'error' event), and the next write succeeds on a new connection. Runs on a private
 * PostgreSQL of its own (@faucet/test-support), never the shared one.
 */
import { ErrorCodes, isFaucetError } from '@faucet/core';
import { createPostgresSink } from '@faucet/sink-postgres';
import { usePrivatePostgres, withPostgres } from '@faucet/test-support';
import pg from 'pg';
import { expect, it } from 'vitest';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

withPostgres('postgres sink when its server restarts', () => {
  const privatePg = usePrivatePostgres();

  it('fails the write in flight cleanly, naming the server and the cause; the next write succeeds', async () => {
    const server = privatePg.server;
    await server.query('CREATE TABLE tgt (id int PRIMARY KEY, name text)');
    const sink = createPostgresSink({
      connection_url: server.url,
      table: 'tgt',
      write_mode: 'upsert',
      key: ['id'],
    });
    // A session of the test's own holds the table, so the sink's write waits inside the server.
    const blocker = new pg.Client({ connectionString: server.url });
    blocker.on('error', () => {});
    await blocker.connect();
    try {
      await sink.write([{ id: 0, name: 'before' }], {} as never);
      await blocker.query('BEGIN; LOCK TABLE tgt IN ACCESS EXCLUSIVE MODE');
      const records = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, name: `n${i + 1}` }));
      const write = Promise.resolve(sink.write(records, {} as never)).then(
        () => undefined,
        (error: unknown) => error,
      );
      const deadline = Date.now() + 30_000;
      for (;;) {
        const [waiting] = await server.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
        );
        if ((waiting?.n ?? 0) > 0) break;
        if (Date.now() > deadline) throw new Error('the sink never waited for the table lock');
        await sleep(20);
      }
      await server.restart();
      const error = await write;
      expect(isFaucetError(error), String(error)).toBe(true);
      const failure = error as Error & { code: string };
      expect(failure.code).toBe(ErrorCodes.CONNECTION_FAILED);
      expect(failure.message).toContain(`127.0.0.1:${server.port}`);
      expect(failure.message).toContain('SQLSTATE 57P01');

      await sink.write(records, {} as never);
      const [count] = await server.query<{ n: number }>('SELECT count(*)::int AS n FROM tgt');
      expect(count?.n).toBe(101);
    } finally {
      await blocker.end().catch(() => undefined);
      await sink.close?.();
    }
  });
});
