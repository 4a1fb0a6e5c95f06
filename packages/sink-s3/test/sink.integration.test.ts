/**
 * The S3 sink against the real S3 server of scripts/services.sh: keys from the template, multipart
 * parts (visible only when complete, aborted on failure), rolling, effectively-once replays that
 * overwrite nothing, abandoned uploads cleaned up by the next run, and bad credentials / bucket.
 */
import { CreateMultipartUploadCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import { AuthError, type FaucetRecord, silentLogger } from '@faucet/core';
import { createS3Sink, markerKey, type S3SinkConfigInput, s3SinkConfigSchema } from '@faucet/sink-s3';
import { listKeys, openUploads, s3TestConnection, useBucket, withS3 } from '@faucet/test-support';
import { describe, expect, it } from 'vitest';
import { readParts } from './helpers.js';

const rows = (from: number, n: number): FaucetRecord[] =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, name: `row-${from + i}`, pad: 'x'.repeat(200) }));

const ctx = { signal: new AbortController().signal, logger: silentLogger };
const token = (seq: number, sub = 0) =>
  `faucet1:${String(seq).padStart(16, '0')}.${String(sub).padStart(10, '0')}#{}`;

/** Random-looking text that gzip cannot shrink much, so parts fill quickly. */
function noisy(from: number, n: number): FaucetRecord[] {
  let a = from * 7919;
  const next = () => {
    a = (a * 1103515245 + 12345) >>> 0;
    return a.toString(36);
  };
  return Array.from({ length: n }, (_, i) => ({
    id: from + i,
    noise: Array.from({ length: 40 }, next).join(''),
  }));
}

withS3('s3 sink', () => {
  const bucket = useBucket('sink-s3-it');
  const sink = (config: Partial<S3SinkConfigInput>, names = { pipeline: 'orders', row: 'row-0' }) =>
    createS3Sink(s3SinkConfigSchema.parse({ ...s3TestConnection(), bucket: bucket.name, ...config }), {
      logger: silentLogger,
      ...names,
    });

  it('names parts by the template, makes them visible only when complete, and rolls by records', async () => {
    const s = sink({ prefix: 'tpl/', roll_records: 250 });
    await s.write(rows(1, 200), ctx);
    expect(await listKeys(bucket.client(), bucket.name, 'tpl/')).toEqual([]);
    await s.write(rows(201, 100), ctx); // 300 >= 250: rolls
    const afterRoll = await listKeys(bucket.client(), bucket.name, 'tpl/');
    expect(afterRoll.length).toBe(1);
    const day = new Date().toISOString().slice(0, 10);
    expect(afterRoll[0]).toMatch(
      new RegExp(`^tpl/orders/row-0/dt=${day}/part-\\d{8}T\\d{6}Z-[0-9a-f]{6}-000001\\.jsonl\\.gz$`),
    );
    await s.write(rows(301, 10), ctx);
    await s.flush?.();
    await s.close?.({ status: 'ok' });
    expect((await readParts(bucket.client(), bucket.name, 'tpl/')).map((r) => r.id)).toEqual(
      rows(1, 310).map((r) => r.id),
    );
  });

  it('streams a large part as a multipart upload and aborts it when the run fails', async () => {
    const s = sink({ prefix: 'mp/', part_size_bytes: 5 * 1024 * 1024, compression: 'none' });
    for (let i = 0; i < 7; i++) await s.write(noisy(i * 10_000, 10_000), ctx);
    expect((await openUploads(bucket.client(), bucket.name, 'mp/')).length).toBe(1);
    await s.close?.({ status: 'failed' });
    expect(await openUploads(bucket.client(), bucket.name, 'mp/')).toEqual([]);
    expect(await listKeys(bucket.client(), bucket.name, 'mp/')).toEqual([]);

    const ok = sink({ prefix: 'mp/', part_size_bytes: 5 * 1024 * 1024, compression: 'none' });
    for (let i = 0; i < 7; i++) await ok.write(noisy(i * 10_000, 10_000), ctx);
    await ok.flush?.();
    await ok.close?.({ status: 'ok' });
    const records = await readParts(bucket.client(), bucket.name, 'mp/');
    expect(records.length).toBe(70_000);
    expect(await openUploads(bucket.client(), bucket.name, 'mp/')).toEqual([]);
  });

  it('the next run aborts uploads a crashed run left unfinished under its prefix', async () => {
    const c = bucket.client();
    const key = 'crash/orders/row-0/dt=2026-01-01/part-x.jsonl.gz';
    const { UploadId } = await c.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: key }));
    await c.send(
      new UploadPartCommand({
        Bucket: bucket.name,
        Key: key,
        UploadId,
        PartNumber: 1,
        Body: Buffer.alloc(1024),
      }),
    );
    // An upload under another pipeline's prefix is not this sink's to abort.
    const other = 'crash/invoices/row-0/part-y.jsonl.gz';
    await c.send(new CreateMultipartUploadCommand({ Bucket: bucket.name, Key: other }));
    const s = sink({ prefix: 'crash/' });
    await s.write(rows(1, 5), ctx);
    await s.flush?.();
    await s.close?.({ status: 'ok' });
    expect(s.stats.abortedUploads).toBe(1);
    expect((await openUploads(c, bucket.name, 'crash/')).map((u) => u.key)).toEqual([other]);
  });

  describe('effectively-once', () => {
    it('two attempts at one part (a crashed run and its replay) leave one object, under one key', async () => {
      const scope = 'eo::row-0';
      const first = sink({ prefix: 'eo/', format: 'parquet' });
      expect(await first.lastCommittedToken?.(scope)).toBeUndefined();
      await first.writeIdempotent?.(rows(1, 10), { scope, token: token(1, 1) }, ctx);
      await first.writeIdempotent?.(rows(11, 10), { scope, token: token(2) }, ctx);
      await first.flush?.();
      expect(await first.lastCommittedToken?.(scope)).toBe(token(2));
      // Second interval: the part becomes visible, then the process dies before the marker moves.
      await first.writeIdempotent?.(rows(21, 10), { scope, token: token(3) }, ctx);
      const c = bucket.client();
      const markerBefore = await listKeys(c, bucket.name, markerKey('eo/', scope));
      expect(markerBefore.length).toBe(1);
      // Two attempts at the same part: the first is stuck (as if its process died around the
      // complete), the replay starts from the marker as a restarted run would.
      const replay = sink({ prefix: 'eo/', format: 'parquet' });
      expect(await replay.lastCommittedToken?.(scope)).toBe(token(2));
      await replay.writeIdempotent?.(rows(21, 10), { scope, token: token(3) }, ctx);
      await replay.flush?.(); // the part appears (the first attempt never completed)
      await first.flush?.(); // the crashed attempt's complete now finds the key taken
      expect(first.stats.existed).toBe(1);
      const records = await readParts(c, bucket.name, 'eo/');
      expect(records.map((r) => r.id)).toEqual(rows(1, 30).map((r) => r.id));
      expect(await replay.lastCommittedToken?.(scope)).toBe(token(3));
    });

    it('an empty checkpoint still moves the marker', async () => {
      const scope = 'eo-empty::row-0';
      const s = sink({ prefix: 'eo-empty/' });
      await s.writeIdempotent?.([], { scope, token: token(5) }, ctx);
      await s.flush?.();
      const again = sink({ prefix: 'eo-empty/' });
      expect(await again.lastCommittedToken?.(scope)).toBe(token(5));
      expect(
        (await listKeys(bucket.client(), bucket.name, 'eo-empty/')).filter((k) => !k.includes('_faucet/')),
      ).toEqual([]);
    });
  });

  describe('bad input', () => {
    it('wrong credentials: an AuthError naming the bucket, never the secret', async () => {
      const secret = 'wrong-secret-4711';
      const s = sink({ prefix: 'auth/', secret_access_key: secret, max_attempts: 1 });
      const error = await s.write(rows(1, 1), ctx).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as Error).message).toContain(`s3://${bucket.name}/auth/orders/row-0/dt=`);
      expect((error as Error).message).toContain('access denied (SignatureDoesNotMatch, HTTP 403)');
      expect(JSON.stringify(error)).not.toContain(secret);
    });

    it('a missing bucket is named', async () => {
      const s = sink({ bucket: 'no-such-bucket-faucet', max_attempts: 1 });
      const error = await s.write(rows(1, 1), ctx).catch((e: unknown) => e);
      expect((error as Error).message).toContain(
        'bucket "no-such-bucket-faucet" does not exist (NoSuchBucket)',
      );
      expect((error as { code?: string }).code).toBe('SINK_WRITE_FAILED');
    });

    it('parquet: a row whose value does not fit its column fails alone', async () => {
      const s = sink({ prefix: 'pqfail/', format: 'parquet' });
      await s.write([{ id: 1, name: 'a' }], ctx);
      const result = await s.write(
        [
          { id: 2, name: 'b' },
          { id: 'three', name: 'c' },
        ],
        ctx,
      );
      expect(result?.failed?.map((f) => f.index)).toEqual([1]);
      expect(String((result?.failed?.[0]?.error as Error).message)).toContain('column "id"');
      await s.flush?.();
      expect((await readParts(bucket.client(), bucket.name, 'pqfail/')).map((r) => r.id)).toEqual([1, 2]);
    });
  });
});
