import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricNames, runPipeline } from '../src/index.js';
import { countingSource, newStorage, recordingSink, testStore } from './doubles.js';

/** A test-only reader: collects on demand, keeps everything in memory. */
class InMemoryReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const reader = new InMemoryReader();
const provider = new MeterProvider({ readers: [reader] });

beforeAll(() => {
  metrics.setGlobalMeterProvider(provider);
});
afterAll(async () => {
  metrics.disable();
  await provider.shutdown();
});

function points(collected: ResourceMetrics) {
  const out = new Map<string, { attributes: Record<string, unknown>; value: unknown }[]>();
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      out.set(
        metric.descriptor.name,
        metric.dataPoints.map((p) => ({
          attributes: p.attributes as Record<string, unknown>,
          value: p.value,
        })),
      );
    }
  }
  return out;
}

describe('metrics through @opentelemetry/api', () => {
  it('emits the documented names with pipeline, row and connector labels', async () => {
    const result = await runPipeline({
      pipeline: 'orders',
      row: 'eu',
      connectors: { source: 'rest', sink: 'bigquery', state: 'file' },
      source: countingSource({ total: 250, pageSize: 100 }),
      sink: recordingSink(newStorage(), { rejectRow: (r) => r.id === 5 }),
      dlq: { sink: recordingSink(newStorage()), connector: 'file' },
      state: testStore(new Map()),
      batchSize: 100,
    });
    expect(result.status).toBe('ok');
    const { resourceMetrics } = await reader.collect();
    const got = points(resourceMetrics);
    for (const name of [
      MetricNames.sourceRecords,
      MetricNames.sourcePages,
      MetricNames.sinkRecords,
      MetricNames.sinkWriteDuration,
      MetricNames.sinkFlushDuration,
      MetricNames.statePut,
      MetricNames.dlqRecords,
      MetricNames.pipelineRuns,
      MetricNames.pipelineRunDuration,
    ]) {
      expect(got.has(name), `metric ${name}`).toBe(true);
    }
    expect(MetricNames.sourceRecords).toBe('faucet.source.records');
    const value = (name: string) => got.get(name)?.[0];
    expect(value(MetricNames.sourceRecords)).toEqual({
      attributes: { pipeline: 'orders', row: 'eu', connector: 'rest' },
      value: 250,
    });
    expect(value(MetricNames.sourcePages)?.value).toBe(3);
    expect(value(MetricNames.sinkRecords)).toEqual({
      attributes: { pipeline: 'orders', row: 'eu', connector: 'bigquery' },
      value: 249,
    });
    expect(value(MetricNames.statePut)).toEqual({
      attributes: { pipeline: 'orders', row: 'eu', connector: 'file' },
      value: 3,
    });
    expect(value(MetricNames.dlqRecords)?.value).toBe(1);
    expect(value(MetricNames.pipelineRuns)).toEqual({
      attributes: { pipeline: 'orders', row: 'eu', connector: 'rest', status: 'ok' },
      value: 1,
    });
    // Low cardinality: no run id, key or record data in any label.
    for (const series of got.values()) {
      for (const point of series) {
        for (const key of Object.keys(point.attributes))
          expect(['pipeline', 'row', 'connector', 'status']).toContain(key);
      }
    }
  });

  it('a meter provider that throws never fails a run (I5)', async () => {
    metrics.disable();
    metrics.setGlobalMeterProvider({
      getMeter() {
        throw new Error('exporter exploded');
      },
    });
    const result = await runPipeline({
      source: countingSource({ total: 10 }),
      sink: recordingSink(newStorage()),
    });
    expect(result.status).toBe('ok');
    metrics.disable();
    metrics.setGlobalMeterProvider(provider);
  });
});
