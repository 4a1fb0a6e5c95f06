/**
 * The state store under the engine: two runs of one pipeline row started at once, each through its
 * own store instance (two processes), must not both run. What every durable store with a lock has to
 * give `runPipeline`, checked the same way for each.
 */
import {
  ErrorCodes,
  isFaucetError,
  type PipelineResult,
  runPipeline,
  type Sink,
  type Source,
  type StateStore,
} from '@faucet/core';
import { describeError, violation } from '../conformance-error.js';
import { settle } from '../env.js';
import { type StateStoreDurableCheck, uniquePrefix } from './state-store.js';

const PAGES = 5;
/** How long the winner waits for the loser to be refused before it finishes anyway (default). */
const REFUSAL_PATIENCE_MS = 30_000;

export interface StateEngineLockCheck extends StateStoreDurableCheck {
  /** How long the winning run waits for the other to be refused before it finishes anyway (30 s). */
  refusalPatienceMs?: number;
}

/** Pages `{id: i}` with bookmark `{i}`, resuming after the bookmark; the last page waits for `gate`. */
function gatedSource(gate: Promise<unknown>): Source {
  return {
    async *read(ctx) {
      const after = (ctx.bookmark as { i?: number } | undefined)?.i ?? -1;
      for (let i = after + 1; i < PAGES; i++) {
        if (i === PAGES - 1) await gate;
        yield { records: [{ id: i }], bookmark: { i } };
      }
    },
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

function collectingSink(): Sink & { rows: unknown[] } {
  const rows: unknown[] = [];
  return {
    rows,
    async write(records) {
      rows.push(...records);
    },
  };
}

/**
 * Rule state-engine-lock: of two runs of one state key started at once, each on its own store
 * instance, one runs to its end and the other is refused with STATE_LOCKED, naming the key, while the
 * first still holds the lock (it reads no record); the winner's bookmark is stored, and a later run
 * resumes after it.
 */
export async function assertStateEngineLock(check: StateEngineLockCheck): Promise<void> {
  const fail = violation('state store', check.name, 'state-engine-lock');
  const open = async (create: () => StateStore | Promise<StateStore>) => {
    try {
      return await create();
    } catch (error) {
      return fail(`create() failed: ${describeError(error)}`, error);
    }
  };
  const stores = [await open(check.create), await open(check.reopen)] as const;
  const pipeline = uniquePrefix('engine').slice(0, -2);
  const key = `${pipeline}::row-0`;
  const options = { pipeline, row: 'row-0', retry: false as const, lockTtlMs: 30_000 };
  try {
    // Each run's last page waits until the other run has ended: the winner holds its lock until the
    // loser was refused, so "refused at once" is checked without measuring time. (A store whose lock
    // waits instead of refusing makes the winner give up waiting after REFUSAL_PATIENCE_MS.)
    const timers: NodeJS.Timeout[] = [];
    const ended = [deferred(), deferred()] as const;
    const patience = (other: 0 | 1): Promise<void> =>
      Promise.race([
        ended[other].promise,
        new Promise<void>((resolve) => {
          timers.push(setTimeout(resolve, check.refusalPatienceMs ?? REFUSAL_PATIENCE_MS));
        }),
      ]);
    const sinks = [collectingSink(), collectingSink()] as const;
    const run = (i: 0 | 1): Promise<PipelineResult> =>
      runPipeline({
        ...options,
        source: gatedSource(patience(i === 0 ? 1 : 0)),
        sink: sinks[i],
        state: stores[i],
      }).finally(() => ended[i].resolve());
    const results = await Promise.all([run(0), run(1)]).finally(() => {
      for (const timer of timers) clearTimeout(timer);
    });
    const ok = results.filter((r) => r.status === 'ok');
    const refused = results.filter((r) => r.status === 'failed');
    if (ok.length !== 1 || refused.length !== 1) {
      const seen = results.map((r) => `${r.status}${r.error ? ` (${r.error.message})` : ''}`).join(', ');
      fail(`two runs of "${key}" started at once ended ${seen}; exactly one must run and one be refused`);
    }
    const loser = refused[0] as PipelineResult;
    if (!isFaucetError(loser.error) || loser.error.code !== ErrorCodes.STATE_LOCKED) {
      fail(
        `the second run failed with ${describeError(loser.error)}, not a FaucetError with code STATE_LOCKED`,
      );
    }
    if (!loser.error?.message.includes(`"${key}"`)) {
      fail(`the refusal does not name the state key "${key}": ${loser.error?.message}`);
    }
    if (loser.recordsRead !== 0)
      fail(`the refused run read ${loser.recordsRead} records before it was refused`);
    const winner = results.indexOf(ok[0] as PipelineResult);
    if (sinks[winner === 0 ? 1 : 0].rows.length > 0 || sinks[winner as 0 | 1].rows.length !== PAGES) {
      fail(`the sinks got ${sinks[0].rows.length} and ${sinks[1].rows.length} rows; expected ${PAGES} and 0`);
    }
    const stored = (await stores[0].get(key)) as { bookmark?: unknown } | undefined;
    if (JSON.stringify(stored?.bookmark) !== JSON.stringify({ i: PAGES - 1 })) {
      fail(
        `after the winning run the stored bookmark is ${JSON.stringify(stored?.bookmark)}, not {"i":${PAGES - 1}}`,
      );
    }
    // The winner released its lock: a later run (through the other instance) takes it and resumes.
    const later = collectingSink();
    const again = await runPipeline({
      ...options,
      source: gatedSource(Promise.resolve()),
      sink: later,
      state: stores[1],
    });
    if (again.status !== 'ok') fail(`a later run could not take the released lock: ${again.error?.message}`);
    if (later.rows.length > 0)
      fail(`a later run did not resume after the stored bookmark: it wrote ${later.rows.length} rows`);
  } finally {
    await settle(stores[0].delete(key));
    for (const store of stores) await settle(Promise.resolve().then(() => store.close?.()));
  }
}
