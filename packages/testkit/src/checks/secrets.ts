/**
 * Rule secrets: a config value marked secret never appears in an error, a log line or a DLQ envelope.
 * The schema must mark it (so faucet's redactor knows it), and the connector's own text must not carry
 * it either: the checks run without the engine's redactor, so what they see is what the connector said.
 */
import {
  configJsonSchema,
  createMemoryStateStore,
  type FaucetRecord,
  Redactor,
  runPipeline,
  type Sink,
  type SinkDescriptor,
  type Source,
  type SourceDescriptor,
  type StateStore,
  type StateStoreDescriptor,
  validateConfig,
} from '@faucet/core';
import { type ConnectorKind, describeError, type Violation, violation } from '../conformance-error.js';
import { defaultRecord } from '../dataset.js';
import { memorySink } from '../doubles/memory-sink.js';
import { memorySource } from '../doubles/memory-source.js';
import { captureLogger, settle, within, writeContext } from '../env.js';
import { sinkCheck } from './errors.js';
import { type ExposedText, errorTexts, leaks, safeJson } from './inspect.js';

export interface SecretsProbe {
  /**
   * A valid config holding the secret. Aim it somewhere that fails (a closed port, a wrong token) so
   * errors are produced; a config that works is checked too (logs, DLQ envelopes).
   */
  config: unknown;
  /** The secret value inside that config. */
  secretValue: string;
}

interface SecretsCheckBase extends SecretsProbe {
  name: string;
  /** Time limit for each operation (default 20 s). */
  timeoutMs?: number;
}

export interface SourceSecretsCheck extends SecretsCheckBase {
  descriptor: SourceDescriptor<unknown>;
}
export interface SinkSecretsCheck extends SecretsCheckBase {
  descriptor: SinkDescriptor<unknown>;
  /** A record the sink rejects per row, so DLQ envelopes carry the sink's own row errors. */
  badRecord?: FaucetRecord;
}
export interface StateStoreSecretsCheck extends SecretsCheckBase {
  descriptor: StateStoreDescriptor<unknown>;
}

class Exposure {
  readonly texts: ExposedText[] = [];
  constructor(readonly timeoutMs: number) {}

  error(error: unknown, label: string): void {
    this.texts.push(...errorTexts(error, label));
  }

  /** Run an operation; keep its error (if any) for inspection. */
  async run(label: string, op: () => unknown): Promise<void> {
    const outcome = await settle(within(Promise.resolve().then(op), this.timeoutMs, label));
    if (!outcome.ok) this.error(outcome.error, `the error of ${label}`);
  }
}

async function prepare(
  kind: ConnectorKind,
  check: SecretsCheckBase & {
    descriptor: SourceDescriptor<unknown> | SinkDescriptor<unknown> | StateStoreDescriptor<unknown>;
  },
) {
  const fail = violation(kind, check.name, 'secrets');
  if (check.secretValue.length < 3)
    fail('secretValue must be at least 3 characters long (shorter ones are not redacted)');
  let validated: unknown;
  try {
    validated = await validateConfig(check.descriptor, check.config);
  } catch (error) {
    return fail(`the secrets example config was refused: ${describeError(error)}`, error);
  }
  const redactor = Redactor.forConfig(validated, configJsonSchema(check.descriptor));
  if (redactor.redact(check.secretValue).includes(check.secretValue)) {
    fail(
      'the config schema does not mark the field holding the secret with secret() (x-faucet-secret), so ' +
        'faucet cannot redact it from errors, logs and DLQ envelopes',
    );
  }
  const capture = captureLogger();
  const exposure = new Exposure(check.timeoutMs ?? 20_000);
  let instance: unknown;
  await exposure.run('create()', async () => {
    instance = await check.descriptor.create(validated as never, { logger: capture.logger, redactor });
  });
  return { fail, capture, exposure, instance };
}

function judge(
  fail: Violation,
  secret: string,
  exposure: Exposure,
  capture: ReturnType<typeof captureLogger>,
  envelopes: readonly FaucetRecord[] = [],
): void {
  const texts: ExposedText[] = [...exposure.texts];
  capture.lines.forEach((line, i) => {
    texts.push({
      where: `log line ${i + 1} (${line.level})`,
      text: `${line.msg} ${safeJson(line.fields ?? {})}`,
    });
  });
  envelopes.forEach((envelope, i) => {
    texts.push({ where: `DLQ envelope ${i + 1}`, text: safeJson(envelope) });
  });
  const found = leaks(texts, secret);
  if (found.length > 0) {
    fail(`the secret config value appears in ${[...new Set(found)].slice(0, 8).join('; ')}`);
  }
}

export async function assertSourceKeepsSecrets(check: SourceSecretsCheck): Promise<void> {
  const { fail, capture, exposure, instance } = await prepare('source', check);
  const source = instance as Source | undefined;
  if (source) {
    if (source.check) await exposure.run('check()', () => source.check?.());
    if (source.discover) await exposure.run('discover()', () => source.discover?.());
    await exposure.run('a run', async () => {
      const result = await runPipeline({
        source,
        sink: memorySink(),
        state: createMemoryStateStore(),
        batchSize: 10,
        logger: capture.logger,
        retry: false,
        closeGraceMs: 1_000,
        connectors: { source: check.name },
      });
      if (result.error) exposure.error(result.error, 'the error of a run');
    });
    await exposure.run('close()', () => source.close?.());
  }
  judge(fail, check.secretValue, exposure, capture);
}

export async function assertSinkKeepsSecrets(check: SinkSecretsCheck): Promise<void> {
  const { fail, capture, exposure, instance } = await prepare('sink', check);
  const sink = instance as Sink | undefined;
  const dlq = memorySink();
  if (sink) {
    const probe = sinkCheck(sink);
    if (probe) await exposure.run('check()', probe);
    const records = (i: number): FaucetRecord =>
      check.badRecord && i % 5 === 2 ? { ...check.badRecord } : defaultRecord(i);
    await exposure.run('write()', async () => {
      const result = await sink.write([records(0), records(1), records(2)], writeContext());
      for (const failure of result?.failed ?? []) exposure.error(failure.error, 'a row failure');
    });
    await exposure.run('a run with a DLQ', async () => {
      const result = await runPipeline({
        source: memorySource({ count: 20, record: records }),
        sink,
        state: createMemoryStateStore(),
        dlq: { sink: dlq, onBatchError: 'dlq_all' },
        batchSize: 10,
        logger: capture.logger,
        retry: false,
        connectors: { sink: check.name },
      });
      if (result.error) exposure.error(result.error, 'the error of a run');
    });
    await exposure.run('close()', () => sink.close?.());
  }
  judge(fail, check.secretValue, exposure, capture, dlq.storage.rows);
}

export async function assertStateStoreKeepsSecrets(check: StateStoreSecretsCheck): Promise<void> {
  const { fail, capture, exposure, instance } = await prepare('state store', check);
  const store = instance as StateStore | undefined;
  if (store) {
    const key = 'conformance.secrets';
    await exposure.run('put()', () => store.put(key, { n: 1 }));
    await exposure.run('get()', () => store.get(key));
    await exposure.run('list()', () => store.list('conformance.'));
    if (store.lock) {
      await exposure.run('lock()', async () => {
        const release = await store.lock?.(key, 5_000);
        await release?.();
      });
    }
    await exposure.run('delete()', () => store.delete(key));
    await exposure.run('close()', () => store.close?.());
  }
  judge(fail, check.secretValue, exposure, capture);
}
