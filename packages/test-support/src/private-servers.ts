/**
 * Throwaway servers of a test file's own — a PostgreSQL cluster in a temp directory and a
 * redis-server — on free ports, for tests that restart or stop the server mid-run. The shared servers
 * of scripts/services.sh must never be restarted (other test files use them at the same time).
 *
 * They use the Debian binaries that scripts/services.sh installs (/usr/lib/postgresql/<v>/bin,
 * redis-server on PATH); gate the tests with `withPostgres` / `withRedis` like other integration
 * tests. PostgreSQL refuses to run as root, so as root it runs as the `postgres` user, with the same
 * settings as scripts/services/postgres.sh (wal_level=logical for CDC).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';

const START_TIMEOUT_S = 90;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || address === null) throw new Error('could not find a free port');
  return address.port;
}

/** Run a command to its end with no stdio (a server it forks must not hold our pipes). */
function run(command: string, args: readonly string[], what: string, log?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (code === 0) resolve();
      else {
        const tail =
          log && existsSync(log) ? `\n${readFileSync(log, 'utf8').split('\n').slice(-25).join('\n')}` : '';
        reject(new Error(`${what} failed (${signal ?? `exit ${code}`})${tail}`));
      }
    });
  });
}

/** Servers left running when the test process exits anyway (a crash, a timeout) are stopped here. */
const cleanups = new Set<() => void>();
process.once('exit', () => {
  for (const cleanup of cleanups) {
    try {
      cleanup();
    } catch {
      // best effort
    }
  }
});

// --- PostgreSQL -------------------------------------------------------------------------------

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:<port>/faucet_test`. */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl restart -m fast`: every session is terminated (57P01), then the server is back. */
  restart(): Promise<void>;
  /** Run one statement on a connection of its own (the test's set-up and checks). */
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Stop the server and delete its directory. */
  stop(): Promise<void>;
}

/** The newest installed PostgreSQL's bin directory (Debian layout). */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  const newest = versions.at(-1);
  if (newest === undefined) {
    throw new Error(
      'no PostgreSQL server binaries (/usr/lib/postgresql/<version>/bin/initdb): run ' +
        '`bash scripts/services.sh start postgres` at the repository root, which installs them',
    );
  }
  return join(root, newest, 'bin');
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** As root, run as the postgres user (PostgreSQL refuses root); otherwise as ourselves. */
function asPostgres(command: string, args: readonly string[]): [string, string[]] {
  return isRoot() ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, [...args]];
}

/** Start a private PostgreSQL cluster (initdb in a temp directory) with database `faucet_test`. */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'faucet-private-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  if (isRoot()) {
    chmodSync(dir, 0o755);
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const pgCtl = (args: readonly string[], what: string) =>
    run(
      ...asPostgres(join(bin, 'pg_ctl'), [
        '-D',
        data,
        '-l',
        log,
        '-w',
        '-t',
        String(START_TIMEOUT_S),
        ...args,
      ]),
      what,
      log,
    );
  const stopNow = () => {
    if (!existsSync(join(data, 'postmaster.pid'))) return;
    const [command, args] = asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    execFileSync(command, args, { stdio: 'ignore' });
  };
  try {
    await run(
      ...asPostgres(join(bin, 'initdb'), [
        '-D',
        data,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--locale=C.UTF-8',
      ]),
      'initdb of a private PostgreSQL',
    );
    const port = await freePort();
    // The settings of scripts/services/postgres.sh: logical decoding for CDC, no fsync (a test cluster).
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-c unix_socket_directories=${dir}`,
      '-c wal_level=logical -c max_replication_slots=16 -c max_wal_senders=16',
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60',
    ].join(' ');
    cleanups.add(stopNow);
    await pgCtl(['-o', options, 'start'], `starting a private PostgreSQL on port ${port}`);
    const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
    await admin.connect();
    try {
      await admin.query('CREATE DATABASE faucet_test');
    } finally {
      await admin.end();
    }
    let stopped = false;
    const url = `postgres://postgres@127.0.0.1:${port}/faucet_test`;
    return {
      url,
      port,
      async query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
        const client = new pg.Client({ connectionString: url });
        client.on('error', () => {});
        await client.connect();
        try {
          return (await client.query<R>(sql, params)).rows;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
      // pg_ctl restart keeps the options of the first start (postmaster.opts).
      restart: () => pgCtl(['-m', 'fast', 'restart'], `restarting the private PostgreSQL on port ${port}`),
      async stop() {
        if (stopped) return;
        stopped = true;
        cleanups.delete(stopNow);
        await pgCtl(['-m', 'immediate', 'stop'], 'stopping the private PostgreSQL').catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    try {
      stopNow();
    } catch {
      // it never started
    }
    cleanups.delete(stopNow);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

// --- Redis ------------------------------------------------------------------------------------

export interface PrivateRedis {
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Stop the server (SIGTERM: with `persistent`, it saves first) and start it again on the same port. */
  restart(): Promise<void>;
  /** Stop the server (kill -9), as in an outage; `start()` brings it back on the same port. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Stop the server and delete its directory. */
  stop(): Promise<void>;
}

/** PING over a raw socket: true when the server answers PONG. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

/**
 * Start a private redis-server (on `port`, or a free one). `persistent`: an append-only file fsynced
 * on every write, so what was stored survives `restart()` (as with a production Redis that runs with
 * AOF); without it a restart loses everything, locks included.
 */
export async function startPrivateRedis(
  options: { persistent?: boolean; port?: number } = {},
): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'faucet-private-redis-'));
  const port = options.port ?? (await freePort());
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''];
  args.push(
    ...(options.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  );
  let child: ChildProcess | undefined;
  const killNow = () => child?.kill('SIGKILL');
  cleanups.add(killNow);

  const exited = (server: ChildProcess) =>
    server.exitCode !== null || server.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const start = async () => {
    if (child && child.exitCode === null && child.signalCode === null) return;
    const server = spawn('redis-server', args, { stdio: 'ignore' });
    child = server;
    const failed = new Promise<never>((_, reject) => {
      server.once('error', (error) =>
        reject(
          new Error(
            `cannot start redis-server (run \`bash scripts/services.sh start redis\`): ${error.message}`,
          ),
        ),
      );
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + START_TIMEOUT_S * 1000;
    for (;;) {
      if (await Promise.race([redisAnswers(port), failed])) return;
      if (server.exitCode !== null)
        throw new Error(`redis-server exited with code ${server.exitCode} on port ${port}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`);
      await sleep(50);
    }
  };
  const halt = async (signal: NodeJS.Signals) => {
    const server = child;
    if (!server) return;
    const gone = exited(server);
    server.kill(signal);
    await gone;
  };
  try {
    await start();
  } catch (error) {
    killNow();
    cleanups.delete(killNow);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async restart() {
      await halt('SIGTERM');
      await start();
    },
    kill: () => halt('SIGKILL'),
    start,
    async stop() {
      await halt('SIGKILL');
      cleanups.delete(killNow);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- vitest wiring ----------------------------------------------------------------------------

/**
 * The server of `start`, started before the tests of the current describe block and stopped after
 * them; read `.server` inside tests.
 */
function useServer<T extends { stop(): Promise<void> }>(start: () => Promise<T>): { readonly server: T } {
  let server: T | undefined;
  beforeAll(
    async () => {
      server = await start();
    },
    START_TIMEOUT_S * 1000 + 30_000,
  );
  afterAll(async () => {
    await server?.stop();
  }, 60_000);
  return {
    get server(): T {
      if (!server) throw new Error('the private server has not started (see the beforeAll error)');
      return server;
    },
  };
}

/** A private PostgreSQL for the current describe block. */
export function usePrivatePostgres(): { readonly server: PrivatePostgres } {
  return useServer(startPrivatePostgres);
}

/** A private Redis for the current describe block. */
export function usePrivateRedis(options: { persistent?: boolean; port?: number } = {}): {
  readonly server: PrivateRedis;
} {
  return useServer(() => startPrivateRedis(options));
}
