/**
 * The sink checks: a clean run delivers everything once; crash and resume through the real engine;
 * truthful per-row failures; keyed upsert; effectively-once; cancellation. `read()` tells what the
 * destination durably holds; `reset()` empties it before each check.
 */
import {
  createMemoryStateStore,
  type FaucetRecord,
  type JsonValue,
  type PipelineResult,
  runPipeline,
  type Sink,
  type StateStore,
} from '@faucet/core';
import { describeError, type Violation, violation } from '../conformance-error.js';
import { compareKeys, type Dataset, keysOf, keyText, listKeys } from '../dataset.js';
import { type FailingSinkOptions, failingSink } from '../doubles/failing-sink.js';
import { failingStateStore } from '../doubles/failing-state-store.js';
import { memorySource } from '../doubles/memory-source.js';
import { settle, writeContext } from '../env.js';
import { checkBatchSize } from './source.js';

export type SinkFactory = () => Sink | Promise<Sink>;

export interface SinkCheck {
  name: string;
  /** A sink instance over the destination. A second call is the same destination after a restart. */
  create: SinkFactory;
  /** Empty the destination. */
  reset: () => void | Promise<void>;
  /** What the destination durably holds (rows flushed or committed). */
  read: () => readonly FaucetRecord[] | Promise<readonly FaucetRecord[]>;
  /** The records the checks write (through the memory source double). */
  dataset: Dataset;
  /** Page size of the runs (default: about an eighth of the dataset, at most 25). */
  batchSize?: number;
}

const PIPELINE = 'conformance';

function needRecords(check: SinkCheck, count: number, what: string): void {
  if (check.dataset.records.length < count) {
    throw new TypeError(`the ${what} check needs a dataset of at least ${count} records`);
  }
}
const STATE_KEY = `${PIPELINE}::row-0`;

async function openSink(check: SinkCheck, fail: Violation): Promise<Sink> {
  try {
    return await check.create();
  } catch (error) {
    return fail(`create() failed: ${describeError(error)}`, error);
  }
}

async function resetDestination(check: SinkCheck, fail: Violation): Promise<void> {
  try {
    await check.reset();
  } catch (error) {
    fail(`reset() failed: ${describeError(error)}`, error);
  }
}

async function readBack(check: SinkCheck, fail: Violation): Promise<readonly FaucetRecord[]> {
  try {
    return await check.read();
  } catch (error) {
    return fail(`read() (what the destination holds) failed: ${describeError(error)}`, error);
  }
}

async function closeSink(sink: Sink): Promise<void> {
  await settle(Promise.resolve().then(() => sink.close?.()));
}

async function run(
  check: SinkCheck,
  sink: Sink,
  state: StateStore,
  extra: { delivery?: 'effectively_once'; signal?: AbortSignal } = {},
): Promise<PipelineResult> {
  try {
    return await runPipeline({
      source: memorySource({ records: check.dataset.records }),
      sink,
      state,
      batchSize: checkBatchSize(check),
      pipeline: PIPELINE,
      retry: false,
      connectors: { sink: check.name },
      ...extra,
    });
  } finally {
    await closeSink(sink);
  }
}

function judge(
  fail: Violation,
  check: SinkCheck,
  rows: readonly FaucetRecord[],
  scenario: string,
  maxDuplicates: number,
): void {
  const { key, records } = check.dataset;
  const diff = compareKeys(keysOf(records, key), keysOf(rows, key));
  if (diff.missing.length > 0) fail(`${scenario}: the destination lacks ${listKeys(diff.missing, key)}`);
  if (diff.unexpected.length > 0)
    fail(`${scenario}: the destination holds ${listKeys(diff.unexpected, key)} never sent`);
  if (diff.duplicates > maxDuplicates) {
    fail(
      `${scenario}: ${diff.duplicates} duplicate rows, more than ${maxDuplicates} allowed; ` +
        `duplicated: ${listKeys(diff.duplicated, key)}`,
    );
  }
}

/** Rule delivery: a clean run delivers every record exactly once. */
export async function assertSinkDelivers(check: SinkCheck): Promise<void> {
  const fail = violation('sink', check.name, 'delivery');
  await resetDestination(check, fail);
  const result = await run(check, await openSink(check, fail), createMemoryStateStore());
  if (result.status !== 'ok')
    fail(`a clean run ended "${result.status}": ${describeError(result.error)}`, result.error);
  judge(fail, check, await readBack(check, fail), 'after a clean run', 0);
}

export interface SinkCrashCheck extends SinkCheck {
  /** A keyed (upsert) sink: a crash must leave no duplicates at all. */
  keyed?: boolean;
}

/**
 * Rule crash-resume, through the real engine: the sink fails at page k's write, the process is killed
 * there (no flush on the way out), the sink fails at a row in the middle of page k (after part of it
 * was written), at page k's flush, or the state put of checkpoint k fails;
 * then a fresh sink instance resumes from the same state. Nothing may be lost; duplicates are at most
 * one page (none for a keyed sink).
 */
export async function assertSinkCrashResume(check: SinkCrashCheck): Promise<void> {
  const fail = violation('sink', check.name, 'crash-resume');
  const batchSize = checkBatchSize(check);
  const pages = Math.ceil(check.dataset.records.length / batchSize);
  const k = Math.max(2, Math.ceil(pages / 2));
  const maxDuplicates = check.keyed ? 0 : batchSize;
  const scenarios: { name: string; sink?: FailingSinkOptions; putFailAt?: number }[] = [
    { name: `the write of page ${k} failed`, sink: { failAtWrite: k } },
    { name: 'the process was killed at the write of page 2', sink: { failAtWrite: 2, kill: true } },
    { name: `the process was killed at the write of page ${k}`, sink: { failAtWrite: k, kill: true } },
    {
      name: `a crash in the middle of page ${k}`,
      sink: { failAtRow: (k - 1) * batchSize + Math.ceil(batchSize / 2) },
    },
    { name: `the flush of page ${k} failed`, sink: { failAtFlush: k } },
    { name: `the state put of page ${k} failed`, putFailAt: k },
  ];
  for (const scenario of scenarios) {
    await resetDestination(check, fail);
    const store = createMemoryStateStore();
    const sink = await openSink(check, fail);
    const first = await run(
      check,
      scenario.sink ? failingSink(sink, scenario.sink) : sink,
      scenario.putFailAt === undefined ? store : failingStateStore(store, { failPutAt: scenario.putFailAt }),
    );
    if (first.status !== 'failed' || !first.error?.message.includes('injected failure')) {
      fail(
        `${scenario.name}: the first run should fail from the injected failure; it ended "${first.status}"`,
        first.error,
      );
    }
    const second = await run(check, await openSink(check, fail), store);
    if (second.status !== 'ok') {
      fail(
        `${scenario.name}; the resumed run ended "${second.status}": ${describeError(second.error)}`,
        second.error,
      );
    }
    judge(fail, check, await readBack(check, fail), `${scenario.name}, then a resumed run`, maxDuplicates);
  }
}

export interface RowFailuresCheck extends SinkCheck {
  /** A record this sink rejects on its own (a constraint violation, a wrong type); or one per index. */
  badRecord: FaucetRecord | ((index: number) => FaucetRecord);
}

/**
 * Rule row-failures: a batch with bad records at known positions reports exactly those positions,
 * each once and in range; the good rows of the batch are written and the bad ones are not; a batch of
 * good rows reports nothing.
 */
export async function assertRowFailures(check: RowFailuresCheck): Promise<void> {
  const fail = violation('sink', check.name, 'row-failures');
  needRecords(check, 20, 'row-failures');
  const { key, records } = check.dataset;
  await resetDestination(check, fail);
  const goods = records.slice(0, 15);
  const badAt = [2, 7];
  const bad = (i: number): FaucetRecord =>
    typeof check.badRecord === 'function' ? check.badRecord(i) : structuredClone(check.badRecord);
  const batch: FaucetRecord[] = [...goods.slice(0, 10)];
  for (const [i, position] of badAt.entries()) batch.splice(position, 0, bad(i));
  const sink = await openSink(check, fail);
  try {
    const clean = await sink.write(goods.slice(10), writeContext());
    if (clean?.failed && clean.failed.length > 0) {
      fail(`a batch of ${goods.length - 10} good records reported ${clean.failed.length} failed rows`);
    }
    let result: Awaited<ReturnType<Sink['write']>>;
    try {
      result = await sink.write(batch, writeContext());
    } catch (error) {
      return fail(
        `a batch of ${batch.length} rows with bad ones at ${badAt.join(' and ')} threw ` +
          `${describeError(error)}; report bad rows in WriteResult.failed and write the others`,
        error,
      );
    }
    const failed = result?.failed ?? [];
    if (!Array.isArray(failed)) fail(`WriteResult.failed is not an array: ${JSON.stringify(failed)}`);
    const seen = new Set<number>();
    for (const failure of failed) {
      const index = failure?.index;
      if (!Number.isInteger(index) || index < 0 || index >= batch.length) {
        fail(
          `reported failed row index ${String(index)} for a batch of ${batch.length} rows (valid: ` +
            `0–${batch.length - 1})`,
        );
      }
      if (seen.has(index)) fail(`reported row ${index} as failed more than once`);
      seen.add(index);
      const error: unknown = failure.error;
      const message = error instanceof Error ? error.message : error;
      if (typeof message !== 'string' || message.trim() === '') {
        fail(`the failure of row ${index} carries no error message (got ${String(error)})`);
      }
    }
    const unreported = badAt.filter((i) => !seen.has(i));
    if (unreported.length > 0)
      fail(`the bad rows at ${unreported.join(' and ')} were not reported as failed`);
    const wrongly = [...seen].filter((i) => !badAt.includes(i));
    if (wrongly.length > 0) fail(`good rows at ${wrongly.join(', ')} were reported as failed`);
    await sink.flush?.();
  } finally {
    await closeSink(sink);
  }
  const rows = await readBack(check, fail);
  const diff = compareKeys(keysOf(goods, key), keysOf(rows, key));
  if (diff.missing.length > 0)
    fail(`rows not reported as failed were not written: ${listKeys(diff.missing, key)}`);
  if (rows.length > goods.length) {
    fail(
      `the destination holds ${rows.length} rows after ${goods.length} good ones were written: rows ` +
        `reported failed were written anyway`,
    );
  }
}

export interface KeyedCheck extends SinkCheck {
  /** Change a record without changing its key (default: append " v2" to its first string field). */
  update?: (record: FaucetRecord) => FaucetRecord;
}

function defaultUpdate(key: string): (record: FaucetRecord) => FaucetRecord {
  return (record) => {
    const field = Object.keys(record).find((f) => f !== key && typeof record[f] === 'string');
    if (field === undefined) {
      throw new TypeError('the keyed check needs a string field to change; pass capabilities.keyed.update');
    }
    return { ...record, [field]: `${String(record[field])} v2` };
  };
}

/** Rule keyed-upsert: writing records again (some changed) leaves one row per key, with the latest values. */
export async function assertKeyedUpsert(check: KeyedCheck): Promise<void> {
  const fail = violation('sink', check.name, 'keyed-upsert');
  needRecords(check, 20, 'keyed-upsert');
  const { key, records } = check.dataset;
  const update = check.update ?? defaultUpdate(key);
  await resetDestination(check, fail);
  const firstPass = records.slice(0, 20);
  const secondPass = firstPass.slice(0, 10).map(update);
  for (const [i, pass] of [firstPass, secondPass].entries()) {
    const sink = await openSink(check, fail);
    try {
      const result = await sink.write([...pass], writeContext());
      if (result?.failed && result.failed.length > 0)
        fail(`write ${i + 1} reported ${result.failed.length} failed rows`);
      await sink.flush?.();
    } catch (error) {
      fail(`write ${i + 1} failed: ${describeError(error)}`, error);
    } finally {
      await closeSink(sink);
    }
  }
  const rows = await readBack(check, fail);
  const diff = compareKeys(keysOf(firstPass, key), keysOf(rows, key));
  if (diff.duplicates > 0) {
    fail(
      `after writing ${secondPass.length} records a second time, ${listKeys(diff.duplicated, key)} are ` +
        `held twice`,
    );
  }
  if (diff.missing.length > 0) fail(`the destination lacks ${listKeys(diff.missing, key)}`);
  const byKey = new Map(rows.map((row) => [keyText(row[key]), row]));
  for (const [i, changed] of secondPass.entries()) {
    const original = firstPass[i] as FaucetRecord;
    const row = byKey.get(keyText(changed[key]));
    for (const field of Object.keys(changed)) {
      if (JSON.stringify(changed[field]) === JSON.stringify(original[field])) continue;
      if (text(row?.[field]) !== text(changed[field])) {
        fail(
          `${key} ${keyText(changed[key])} was written again with ${field}=${text(changed[field])}, but ` +
            `the destination still holds ${field}=${text(row?.[field])}`,
        );
      }
    }
  }
}

const text = (value: JsonValue | undefined): string =>
  typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');

/**
 * Rule effectively-once, with `delivery: 'effectively_once'`: the state put of checkpoint k fails
 * (the sink is ahead of the state store), or the commit of page k fails; the resumed run must end
 * with every record exactly once.
 */
export async function assertEffectivelyOnce(check: SinkCheck): Promise<void> {
  const fail = violation('sink', check.name, 'effectively-once');
  const batchSize = checkBatchSize(check);
  const k = Math.max(2, Math.ceil(Math.ceil(check.dataset.records.length / batchSize) / 2));
  const probe = await openSink(check, fail);
  await closeSink(probe);
  if (typeof probe.writeIdempotent !== 'function' || typeof probe.lastCommittedToken !== 'function') {
    fail(
      'the connector declares effectivelyOnce, but its sink lacks writeIdempotent() and lastCommittedToken()',
    );
  }
  const scenarios: { name: string; sink?: FailingSinkOptions; putFailAt?: number }[] = [
    { name: `the state put of page ${k} failed after the sink committed it`, putFailAt: k },
    { name: `the commit of page ${k} failed`, sink: { failAtWrite: k } },
  ];
  for (const scenario of scenarios) {
    await resetDestination(check, fail);
    // The memory store stands in for a durable one: both runs share it in this process.
    const store = createMemoryStateStore();
    const durable = (failPutAt?: number) =>
      failingStateStore(store, failPutAt === undefined ? { durable: true } : { durable: true, failPutAt });
    const sink = await openSink(check, fail);
    const first = await run(
      check,
      scenario.sink ? failingSink(sink, scenario.sink) : sink,
      durable(scenario.putFailAt),
      {
        delivery: 'effectively_once',
      },
    );
    if (first.status !== 'failed' || !first.error?.message.includes('injected failure')) {
      fail(
        `${scenario.name}: the first run should fail from the injected failure; it ended "${first.status}"`,
        first.error,
      );
    }
    const second = await run(check, await openSink(check, fail), durable(), { delivery: 'effectively_once' });
    if (second.status !== 'ok') {
      fail(
        `${scenario.name}; the resumed run ended "${second.status}": ${describeError(second.error)}`,
        second.error,
      );
    }
    judge(fail, check, await readBack(check, fail), `${scenario.name}, then a resumed run`, 0);
    const after = await openSink(check, fail);
    const token = await after.lastCommittedToken?.(STATE_KEY);
    await closeSink(after);
    if (typeof token !== 'string' || token === '') {
      fail(
        `after a complete run lastCommittedToken("${STATE_KEY}") returned ${String(token)}, not the last ` +
          `token`,
      );
    }
  }
}

/**
 * Rule cancellation: the run is cancelled while page 2 is written; page 2 must be finished and
 * durable (flushed), and nothing after it written.
 */
export async function assertSinkCancellation(check: SinkCheck): Promise<void> {
  const fail = violation('sink', check.name, 'cancellation');
  const { key } = check.dataset;
  await resetDestination(check, fail);
  const controller = new AbortController();
  const sent: FaucetRecord[] = [];
  const sink = failingSink(await openSink(check, fail), {
    onWrite: (n, batch) => {
      sent.push(...batch);
      if (n === 2) controller.abort();
    },
  });
  const result = await run(check, sink, createMemoryStateStore(), { signal: controller.signal });
  if (result.status !== 'cancelled') {
    fail(
      `the run was cancelled during page 2 but ended "${result.status}": ${describeError(result.error)}`,
      result.error,
    );
  }
  const rows = await readBack(check, fail);
  const diff = compareKeys(keysOf(sent, key), keysOf(rows, key));
  if (diff.missing.length > 0) {
    fail(
      `the rows written before the run was cancelled are not durable: ${listKeys(diff.missing, key)} lost`,
    );
  }
  if (diff.unexpected.length > 0)
    fail(`rows were written after cancellation: ${listKeys(diff.unexpected, key)}`);
  if (diff.duplicates > 0) fail(`${listKeys(diff.duplicated, key)} are held twice after one run`);
}
