/**
 * What each suite runs, as plain data: a title per rule and either a check to run or the reason it is
 * skipped. The vitest suites map this onto `it` / `it.skip`, so a capability a connector does not
 * declare shows as a skipped test with the reason in its title, never as a pass.
 */
import type {
  FaucetRecord,
  Sink,
  SinkDescriptor,
  Source,
  SourceDescriptor,
  StateStore,
  StateStoreDescriptor,
} from '@faucet/core';
import { assertConfigSchema, type ConfigExamples } from './checks/config-schema.js';
import {
  assertSinkUnreachable,
  assertSourceUnreachable,
  assertStateStoreUnreachable,
  type UnreachableTarget,
} from './checks/errors.js';
import {
  assertSinkKeepsSecrets,
  assertSourceKeepsSecrets,
  assertStateStoreKeepsSecrets,
  type SecretsProbe,
} from './checks/secrets.js';
import {
  assertEffectivelyOnce,
  assertKeyedUpsert,
  assertRowFailures,
  assertSinkCancellation,
  assertSinkCrashResume,
  assertSinkDelivers,
  type KeyedCheck,
} from './checks/sink.js';
import {
  assertBookmarkRoundTrip,
  assertBoundedPages,
  assertSourceCancellation,
  assertSourceCrashResume,
  assertStreams,
} from './checks/source.js';
import { assertStateEngineLock } from './checks/state-engine.js';
import {
  assertStateAtomicPut,
  assertStateDurable,
  assertStateLock,
  assertStateRoundTrip,
  type StateStoreFactory,
} from './checks/state-store.js';
import { type RuleId, Rules } from './conformance-error.js';
import { type Dataset, type DatasetOptions, makeDataset } from './dataset.js';

export interface SourceCapabilities {
  /** Which pages carry a bookmark: every page (ordered sources), the final page only (unordered), or none. */
  bookmarks: 'every-page' | 'final-page' | false;
  /**
   * `false`, or a probe of how many records the source has pulled from its backend so far (rows
   * fetched, lines read, records served by a test server): the first page must come before all of them.
   */
  streaming: false | { served: () => number | Promise<number> };
  /** A source aimed at a closed port, with a password in its config. */
  unreachable?: UnreachableTarget<Source>;
  /** A config holding a secret (needs `descriptor`). */
  secrets?: SecretsProbe;
}

interface SuiteBase<D> {
  /** The connector's name in every test title and failure message. */
  name: string;
  /** The plugin descriptor (`export default defineSource(…)`), for the config schema and secrets checks. */
  descriptor?: D;
  /** A config the connector accepts and one it must refuse (with the path its error must name). */
  config?: ConfigExamples;
  /** Time limit of each test in ms (default 60 000). */
  timeoutMs?: number;
}

export interface SourceSuiteOptions extends SuiteBase<SourceDescriptor<unknown>> {
  /** A fresh source reading the seeded records. Called once per read or run (a new instance is a restart). */
  create: (ctx: { records: readonly FaucetRecord[] }) => Source | Promise<Source>;
  /** Put the records where the source reads them (a table, a topic, a test server); called once, first. */
  seed?: (records: readonly FaucetRecord[]) => void | Promise<void>;
  /** The seeded records (default: 120 records with every JSON type, key `id`). */
  dataset?: DatasetOptions;
  /** Page size the checks ask for (default: an eighth of the dataset, at most 25). */
  batchSize?: number;
  capabilities: SourceCapabilities;
}

export interface SinkCapabilities {
  /** What the destination durably holds (flushed or committed rows). */
  read: () => readonly FaucetRecord[] | Promise<readonly FaucetRecord[]>;
  /** Upsert by key: writing a record again replaces it, and a crash leaves no duplicates. */
  keyed?: boolean | { update: KeyedCheck['update'] };
  /** writeIdempotent + lastCommittedToken: no loss and no duplicates across a crash. */
  effectivelyOnce?: boolean;
  /** A record the sink rejects per row. */
  rowFailures?: false | { badRecord: FaucetRecord | ((index: number) => FaucetRecord) };
  /** A sink aimed at a closed port, with a password in its config. */
  unreachable?: UnreachableTarget<Sink>;
  /** A config holding a secret (needs `descriptor`). */
  secrets?: SecretsProbe;
}

export interface SinkSuiteOptions extends SuiteBase<SinkDescriptor<unknown>> {
  /** A sink over the destination; each call is a new instance (a restart) over the same destination. */
  create: () => Sink | Promise<Sink>;
  /** Empty the destination; called before each check. */
  reset: () => void | Promise<void>;
  /** The records written (default: 120 records with every JSON type, key `id`). */
  dataset?: DatasetOptions;
  batchSize?: number;
  capabilities: SinkCapabilities;
}

export interface StateStoreCapabilities {
  /** Whether the store offers lock() (default true: a store without one must say `lock: false`). */
  lock?: boolean;
  /** A second instance over the same storage (a restart); leave it out for a store that forgets. */
  reopen?: StateStoreFactory;
  /** A store aimed at a closed port, with a password in its config. */
  unreachable?: UnreachableTarget<StateStore>;
  secrets?: SecretsProbe;
}

export interface StateStoreSuiteOptions extends SuiteBase<StateStoreDescriptor<unknown>> {
  /** A store instance; each check creates its own and closes it. */
  create: StateStoreFactory;
  capabilities?: StateStoreCapabilities;
}

export interface PlannedCheck {
  rule: RuleId;
  /** `rule-id: the rule in words`, plus ` (skipped: reason)` when skipped. */
  title: string;
  /** Why it does not run, when it does not. */
  skip?: string;
  run: () => Promise<void>;
}

const noop = async (): Promise<void> => {};

function planned(rule: RuleId, run: () => Promise<void>, skip?: string): PlannedCheck {
  const title = `${rule}: ${Rules[rule]}`;
  return skip === undefined
    ? { rule, title, run }
    : { rule, title: `${title} (skipped: ${skip})`, skip, run: noop };
}

function configCheck(
  options: SuiteBase<SourceDescriptor<unknown> | SinkDescriptor<unknown> | StateStoreDescriptor<unknown>>,
) {
  const { descriptor, config } = options;
  if (!descriptor || !config) {
    return planned(
      'config-schema',
      noop,
      'no descriptor and config examples were given (descriptor, config)',
    );
  }
  return planned('config-schema', () => assertConfigSchema({ name: options.name, descriptor, ...config }));
}

function secretsSkip(descriptor: unknown, secrets: SecretsProbe | undefined): string | undefined {
  if (!secrets) return 'the connector declares no secret config (capabilities.secrets)';
  if (!descriptor) return 'capabilities.secrets needs the descriptor';
  return undefined;
}

export function planSourceSuite(options: SourceSuiteOptions): { dataset: Dataset; checks: PlannedCheck[] } {
  const dataset = makeDataset(options.dataset);
  const caps = options.capabilities;
  const base = {
    name: options.name,
    create: () => options.create({ records: dataset.records }),
    dataset,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
  };
  const { bookmarks, streaming, unreachable, secrets } = caps;
  const descriptor = options.descriptor;
  const checks = [
    configCheck(options),
    planned('bounded-pages', () => assertBoundedPages(base)),
    streaming === false
      ? planned('streaming', noop, 'the connector declares streaming: false')
      : planned('streaming', () => assertStreams({ ...base, served: streaming.served })),
    bookmarks === false
      ? planned('bookmark-round-trip', noop, 'the connector declares bookmarks: false')
      : planned('bookmark-round-trip', () => assertBookmarkRoundTrip({ ...base, bookmarks })),
    planned('crash-resume', () => assertSourceCrashResume({ ...base, bookmarks })),
    planned('cancellation', () => assertSourceCancellation({ ...base, bookmarks })),
    unreachable
      ? planned('typed-errors', () => assertSourceUnreachable({ name: options.name, ...unreachable }))
      : planned('typed-errors', noop, 'no unreachable source was given (capabilities.unreachable)'),
    secrets && descriptor
      ? planned('secrets', () => assertSourceKeepsSecrets({ name: options.name, descriptor, ...secrets }))
      : planned('secrets', noop, secretsSkip(descriptor, secrets)),
  ];
  return { dataset, checks };
}

export function planSinkSuite(options: SinkSuiteOptions): { dataset: Dataset; checks: PlannedCheck[] } {
  const dataset = makeDataset(options.dataset);
  const caps = options.capabilities;
  const base = {
    name: options.name,
    create: options.create,
    reset: options.reset,
    read: caps.read,
    dataset,
    ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
  };
  const { keyed, rowFailures, unreachable, secrets } = caps;
  const descriptor = options.descriptor;
  const badRecord = rowFailures ? rowFailures.badRecord : undefined;
  const checks = [
    configCheck(options),
    planned('delivery', () => assertSinkDelivers(base)),
    planned('crash-resume', () => assertSinkCrashResume({ ...base, keyed: Boolean(keyed) })),
    rowFailures
      ? planned('row-failures', () => assertRowFailures({ ...base, badRecord: rowFailures.badRecord }))
      : planned('row-failures', noop, 'the connector declares no rowFailures (capabilities.rowFailures)'),
    keyed
      ? planned('keyed-upsert', () =>
          assertKeyedUpsert(
            typeof keyed === 'object' && keyed.update ? { ...base, update: keyed.update } : base,
          ),
        )
      : planned('keyed-upsert', noop, 'the connector declares keyed: false'),
    caps.effectivelyOnce
      ? planned('effectively-once', () => assertEffectivelyOnce(base))
      : planned('effectively-once', noop, 'the connector declares effectivelyOnce: false'),
    planned('cancellation', () => assertSinkCancellation(base)),
    unreachable
      ? planned('typed-errors', () => assertSinkUnreachable({ name: options.name, ...unreachable }))
      : planned('typed-errors', noop, 'no unreachable sink was given (capabilities.unreachable)'),
    secrets && descriptor
      ? planned('secrets', () =>
          assertSinkKeepsSecrets({
            name: options.name,
            descriptor,
            ...secrets,
            ...(badRecord && typeof badRecord !== 'function' ? { badRecord } : {}),
            ...(badRecord && typeof badRecord === 'function' ? { badRecord: badRecord(0) } : {}),
          }),
        )
      : planned('secrets', noop, secretsSkip(descriptor, secrets)),
  ];
  return { dataset, checks };
}

export function planStateStoreSuite(options: StateStoreSuiteOptions): { checks: PlannedCheck[] } {
  const caps = options.capabilities ?? {};
  const base = { name: options.name, create: options.create };
  const { reopen, unreachable, secrets } = caps;
  const descriptor = options.descriptor;
  const checks = [
    configCheck(options),
    planned('state-round-trip', () => assertStateRoundTrip(base)),
    planned('state-atomic-put', () => assertStateAtomicPut(base)),
    caps.lock === false
      ? planned('state-lock', noop, 'the store declares lock: false')
      : planned('state-lock', () => assertStateLock(reopen ? { ...base, reopen } : base)),
    reopen
      ? planned('state-durable', () => assertStateDurable({ ...base, reopen }))
      : planned(
          'state-durable',
          noop,
          'no second instance was given (capabilities.reopen); a store that forgets on exit has none',
        ),
    caps.lock === false || !reopen
      ? planned(
          'state-engine-lock',
          noop,
          caps.lock === false
            ? 'the store declares lock: false'
            : 'no second instance was given (capabilities.reopen) to run a second pipeline on',
        )
      : planned('state-engine-lock', () => assertStateEngineLock({ ...base, reopen })),
    unreachable
      ? planned('typed-errors', () => assertStateStoreUnreachable({ name: options.name, ...unreachable }))
      : planned('typed-errors', noop, 'no unreachable store was given (capabilities.unreachable)'),
    secrets && descriptor
      ? planned('secrets', () => assertStateStoreKeepsSecrets({ name: options.name, descriptor, ...secrets }))
      : planned('secrets', noop, secretsSkip(descriptor, secrets)),
  ];
  return { checks };
}
