/**
 * state-postgres when its server restarts (`pg_ctl restart -m fast`), on a private PostgreSQL of the
 * test's own (@faucet/test-support), never the shared one. A restart ends every session, and a
 * session-level lock goes with its session: the store takes the lock again before the next write,
 * or refuses the write when another run took the lock meanwhile. Nothing crashes the process
 * (vitest fails a file on an unhandled 'error' event).
 */
import { StateLockedError } from '@faucet/core';
import { createPostgresStateStore } from '@faucet/state-postgres';
import { recordingLogger, sleep, usePrivatePostgres } from '@faucet/test-support';
import { expect, it } from 'vitest';
import { describeWithPostgres } from './pg-env.js';

/** Sessions holding the advisory lock of a key. */
const HOLDERS = `select count(*)::int as n from pg_locks
  where locktype = 'advisory' and granted and objsubid = 1
    and ((classid::bigint << 32) | objid::bigint) = hashtextextended($1, 0)`;

describeWithPostgres('state-postgres when its server restarts', () => {
  const privatePg = usePrivatePostgres();

  it('keeps working after a restart, takes a lost lock again before writing, and refuses to write under a lock another run took', async () => {
    const server = privatePg.server;
    const logger = recordingLogger();
    const { warnings } = logger;
    const holder = createPostgresStateStore({ connection_url: server.url, table: 'st' }, { logger });
    const other = createPostgresStateStore({ connection_url: server.url, table: 'st' });
    const holders = async () => (await server.query<{ n: number }>(HOLDERS, ['job::row-0']))[0]?.n;
    try {
      const release = await holder.lock('job::row-0', 60_000);
      await holder.put('job::row-0', { n: 1 });

      await server.restart();
      const lostWarnings = () =>
        warnings.filter((w) => w.includes('lost the connection holding a state lock'));
      // The warning comes with the lock session's error event; wait for it rather than race it.
      for (let i = 0; i < 200 && lostWarnings().length === 0; i++) await sleep(50);
      expect(await holders()).toBe(0);
      // The next write takes the lock again first (here under a partition key of the locked key).
      await holder.put('job::row-0::p1', { n: 2 });
      expect(await holders()).toBe(1);
      expect(await holder.get('job::row-0::p1')).toEqual({ n: 2 });
      // One warning, though a broken connection reports twice (the server's FATAL, then the socket).
      expect(lostWarnings()).toHaveLength(1);

      // Again, but another run takes the lock first: the holder's writes are refused.
      await server.restart();
      const released = await other.lock('job::row-0', 60_000);
      const put = await holder.put('job::row-0', { n: 3 }).catch((e: unknown) => e);
      expect(put).toBeInstanceOf(StateLockedError);
      expect((put as StateLockedError).message).toContain('this run lost the lock while it ran');
      expect(await other.get('job::row-0')).toEqual({ n: 1 });
      await other.put('job::row-0', { n: 4 });
      await released();
      // Releasing a lock whose session is gone is harmless.
      await release();
    } finally {
      await Promise.all([holder.close(), other.close()]);
    }
  });
});
