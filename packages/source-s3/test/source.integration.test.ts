/**
 * The S3 source against the real S3 server of scripts/services.sh (moto, authentication on):
 * order, incremental runs, resume inside an object, rewritten objects, bounded listing passes, and
 * bad input (wrong credentials, a missing bucket, corrupt gzip and Parquet, an object deleted
 * between listing and reading).
 */
import { gzipSync } from 'node:zlib';
import { DeleteObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { AuthError, type FaucetRecord, type JsonValue, type Page, silentLogger } from '@faucet/core';
import { createParquetEncoder, DecodeError, encodeJsonlText } from '@faucet/formats';
import { createS3Source, type S3SourceConfigInput, s3SourceConfigSchema } from '@faucet/source-s3';
import { putObject, s3TestConnection, useBucket, withS3 } from '@faucet/test-support';
import { describe, expect, it } from 'vitest';

const rows = (from: number, n: number, tag = 'r'): FaucetRecord[] =>
  Array.from({ length: n }, (_, i) => ({ id: from + i, tag, name: `${tag}-${from + i}` }));

/** Wait until the wall clock is in a later second than `after` (S3 keeps LastModified to the second). */
async function nextSecond(after = Date.now()): Promise<void> {
  const target = Math.floor(after / 1000) + 1;
  while (Math.floor(Date.now() / 1000) < target) await new Promise((r) => setTimeout(r, 50));
}

function parquetBytes(records: FaucetRecord[], rowGroupSize: number): Buffer {
  const encoder = createParquetEncoder({ rowGroupSize });
  encoder.encode(records);
  return Buffer.concat([encoder.take(), encoder.finish()]);
}

withS3('s3 source', () => {
  const bucket = useBucket('source-s3-it');
  const base = () => ({ ...s3TestConnection(), bucket: bucket.name });
  const source = (config: Partial<S3SourceConfigInput>, client?: S3Client) =>
    createS3Source(s3SourceConfigSchema.parse({ ...base(), ...config }), {
      logger: silentLogger,
      ...(client ? { client } : {}),
    });

  async function run(
    config: Partial<S3SourceConfigInput>,
    bookmark?: JsonValue,
    batchSize = 100,
    onRecordError: 'fail' | 'dlq' = 'fail',
  ) {
    const s = source(config);
    const pages: Page[] = [];
    for await (const page of s.read({
      bookmark,
      batchSize,
      signal: new AbortController().signal,
      logger: silentLogger,
      onRecordError,
    })) {
      pages.push(page);
    }
    await s.close?.();
    const records = pages.flatMap((p) => p.records);
    return { pages, records, bookmark: pages.at(-1)?.bookmark, progress: s.progress };
  }

  it('reads objects in (LastModified, key) order, then only what is new or rewritten', async () => {
    const c = bucket.client();
    const t0 = Date.now();
    await putObject(c, bucket.name, 'inc/b.jsonl', encodeJsonlText(rows(1, 3, 'b')));
    await putObject(c, bucket.name, 'inc/a.jsonl', encodeJsonlText(rows(4, 2, 'a')));
    await nextSecond(t0);
    const t1 = Date.now();
    await putObject(c, bucket.name, 'inc/0-later.jsonl', encodeJsonlText(rows(6, 1, 'later')));
    const first = await run({ prefix: 'inc/' });
    // The order the server's LastModified (to the second) and the keys give: a before b when they
    // share a second; the later second comes last although its key sorts first.
    const listed = await c.send(new ListObjectsV2Command({ Bucket: bucket.name, Prefix: 'inc/' }));
    const order = (listed.Contents ?? [])
      .map((o) => ({ key: o.Key ?? '', at: o.LastModified?.getTime() ?? 0 }))
      .sort((x, y) => x.at - y.at || (x.key < y.key ? -1 : 1))
      .map((o) => o.key);
    expect(order.at(-1)).toBe('inc/0-later.jsonl');
    const tagsOf: Record<string, string[]> = {
      'inc/a.jsonl': ['a', 'a'],
      'inc/b.jsonl': ['b', 'b', 'b'],
      'inc/0-later.jsonl': ['later'],
    };
    expect(first.records.map((r) => r.tag)).toEqual(order.flatMap((k) => tagsOf[k] ?? []));
    expect(first.pages.every((p) => p.bookmark !== undefined)).toBe(true);

    const again = await run({ prefix: 'inc/' }, first.bookmark);
    expect(again.records).toEqual([]);
    expect(again.progress.objects).toBe(0);

    await nextSecond(t1);
    await putObject(c, bucket.name, 'inc/c.jsonl', encodeJsonlText(rows(7, 2, 'c')));
    await putObject(c, bucket.name, 'inc/a.jsonl', encodeJsonlText(rows(4, 3, 'a2')));
    const next = await run({ prefix: 'inc/' }, again.bookmark);
    expect(next.records.map((r) => r.tag).sort()).toEqual(['a2', 'a2', 'a2', 'c', 'c']);
    expect(next.progress.objects).toBe(2);
  });

  it('reads an object that appears later with the LastModified second of the last one read', async () => {
    const c = bucket.client();
    await nextSecond();
    const t = Date.now();
    await putObject(c, bucket.name, 'late/m.jsonl', encodeJsonlText(rows(1, 1, 'm')));
    const first = await run({ prefix: 'late/' });
    expect(first.records.map((r) => r.tag)).toEqual(['m']);
    await putObject(c, bucket.name, 'late/a.jsonl', encodeJsonlText(rows(2, 1, 'a')));
    // Only meaningful when the upload landed in the same second as m (it nearly always does).
    const second = await run({ prefix: 'late/' }, first.bookmark);
    expect(second.records.map((r) => r.tag)).toEqual(['a']);
    expect(Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(Math.floor(t / 1000));
    const third = await run({ prefix: 'late/' }, second.bookmark);
    expect(third.records).toEqual([]);
  });

  for (const variant of [
    {
      name: 'plain jsonl (Range request)',
      key: 'mid/plain.jsonl',
      body: () => encodeJsonlText(rows(1, 250)),
    },
    { name: 'gzip csv', key: 'mid/rows.csv.gz', body: () => gzipSync(csvOf(rows(1, 250))) },
    { name: 'parquet', key: 'mid/rows.parquet', body: () => parquetBytes(rows(1, 250), 64) },
  ]) {
    it(`resumes inside an object: ${variant.name}`, async () => {
      const prefix = `${variant.key}`;
      await putObject(bucket.client(), bucket.name, variant.key, variant.body());
      const all = await run({ prefix }, undefined, 40);
      expect(all.records.map((r) => Number(r.id))).toEqual(rows(1, 250).map((r) => r.id));
      for (const cut of [1, 3, 5]) {
        const page = all.pages[cut - 1] as Page;
        const rest = await run({ prefix }, page.bookmark, 40);
        expect(rest.records.map((r) => Number(r.id))).toEqual(
          rows(1, 250)
            .slice(cut * 40)
            .map((r) => r.id),
        );
      }
    });
  }

  it('lists in bounded passes: a window of 3 still reads 10 objects in order', async () => {
    const c = bucket.client();
    for (let i = 0; i < 10; i++) {
      await putObject(c, bucket.name, `win/${String(9 - i)}.jsonl`, encodeJsonlText(rows(i, 1, `o${i}`)));
    }
    const { records } = await run({ prefix: 'win/', listing_window: 3 });
    expect(records.length).toBe(10);
    const keys = records.map((r) => r.id);
    expect(new Set(keys).size).toBe(10);
  });

  it('status counts the objects pending since a bookmark', async () => {
    const c = bucket.client();
    await putObject(c, bucket.name, 'st/1.jsonl', encodeJsonlText(rows(1, 2)));
    await putObject(c, bucket.name, 'st/2.jsonl', encodeJsonlText(rows(3, 2)));
    const s = source({ prefix: 'st/' });
    expect(await s.status()).toMatchObject({ matched_objects: 2, pending_objects: 2 });
    const done = await run({ prefix: 'st/' });
    expect(await s.status(done.bookmark)).toMatchObject({ matched_objects: 2, pending_objects: 0 });
    const discovered = await s.discover?.();
    expect(discovered?.[0]?.schema).toMatchObject({ properties: { id: { type: 'integer' } } });
    await s.check?.();
  });

  it('a full (non-incremental) source reads everything again once a run completed', async () => {
    await putObject(bucket.client(), bucket.name, 'full/1.jsonl', encodeJsonlText(rows(1, 2)));
    const first = await run({ prefix: 'full/', incremental: false });
    const second = await run({ prefix: 'full/', incremental: false }, first.bookmark);
    expect(second.records).toEqual(first.records);
  });

  it('with onRecordError dlq, bad lines and ragged rows come as rejected records with object, line and offset', async () => {
    const c = bucket.client();
    await putObject(c, bucket.name, 'bad/a.jsonl', '{"id":1}\n{"id":2,oops\n{"id":3}\n');
    await putObject(c, bucket.name, 'bad/b.csv.gz', gzipSync('id,name\n4,d\n5,e,extra\n6,f\n'));
    const { pages, records } = await run({ prefix: 'bad/' }, undefined, 100, 'dlq');
    expect(records.map((r) => Number(r.id))).toEqual([1, 3, 4, 6]);
    const rejected = pages.flatMap((p) => p.rejected ?? []);
    expect(rejected.map(({ raw, position }) => ({ raw, position }))).toEqual([
      { raw: '{"id":2,oops', position: { object: `s3://${bucket.name}/bad/a.jsonl`, line: 2, offset: 9 } },
      { raw: '5,e,extra', position: { object: `s3://${bucket.name}/bad/b.csv.gz`, line: 3, offset: 12 } },
    ]);
    expect(String((rejected[0]?.error as Error).message)).toContain('bad/a.jsonl:2: invalid JSON');
    // By default the first one fails the read, saying how to dead-letter instead.
    const error = await run({ prefix: 'bad/' }).catch((e: unknown) => e);
    expect((error as Error).message).toContain('set on_record_error: dlq');
  });

  describe('max_record_bytes', () => {
    const huge = `{"id":26,"blob":"${'x'.repeat(5000)}"}\n`;
    const text = `${encodeJsonlText(rows(1, 25))}${huge}${encodeJsonlText(rows(27, 1))}`;
    const cap = `larger than max_record_bytes (4096 bytes). Does the file have line breaks? Raise max_record_bytes`;

    for (const variant of [
      { name: 'plain (resumed by a Range request)', key: 'mrb/plain/big.jsonl', body: () => text },
      { name: 'gzip (resumed by skipping)', key: 'mrb/gz/big.jsonl.gz', body: () => gzipSync(text) },
    ]) {
      it(`fails on a record over the cap naming the object, line and byte offset: ${variant.name}`, async () => {
        await putObject(bucket.client(), bucket.name, variant.key, variant.body());
        const prefix = variant.key;
        const offset = Buffer.byteLength(encodeJsonlText(rows(1, 25)));
        const expected = `s3://${bucket.name}/${variant.key}:26: the record starting at byte ${offset} is ${cap}`;
        const error = await run({ prefix, max_record_bytes: 4096 }, undefined, 10).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(DecodeError);
        expect((error as DecodeError).code).toBe('SOURCE_FAILED');
        expect((error as Error).message.startsWith(expected)).toBe(true);
        expect((error as DecodeError).offset).toBe(offset);
        // Resumed inside the object after its first page (the source holds one page back, so the
        // decoder has read 20 records by then): the same line and offset.
        const s = source({ prefix, max_record_bytes: 4096 });
        const pages: Page[] = [];
        for await (const page of s.read({
          bookmark: undefined,
          batchSize: 10,
          signal: new AbortController().signal,
          logger: silentLogger,
        })) {
          pages.push(page);
          if (pages.length === 1) break;
        }
        await s.close?.();
        const resumed = await run({ prefix, max_record_bytes: 4096 }, pages[0]?.bookmark, 10).catch(
          (e: unknown) => e,
        );
        expect((resumed as Error).message.startsWith(expected)).toBe(true);
        // Raised, the object reads to its end.
        const all = await run({ prefix, max_record_bytes: 8192 }, undefined, 10);
        expect(all.records.map((r) => r.id)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
      });
    }

    it('defaults to 64 MiB, at most 512 MiB', () => {
      expect(s3SourceConfigSchema.parse(base()).max_record_bytes).toBe(64 * 1024 * 1024);
      expect(s3SourceConfigSchema.safeParse({ ...base(), max_record_bytes: 0 }).success).toBe(false);
      expect(
        s3SourceConfigSchema.safeParse({ ...base(), max_record_bytes: 512 * 1024 * 1024 + 1 }).success,
      ).toBe(false);
    });
  });

  describe('bad input', () => {
    it('wrong credentials: an AuthError that never shows the secret', async () => {
      const secret = 'wrong-secret-key-4711';
      const s = source({ prefix: 'x/', secret_access_key: secret, max_attempts: 1 });
      const error = await s.check?.().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuthError);
      expect((error as AuthError).code).toBe('AUTH_FAILED');
      expect((error as Error).message).toContain(`listing s3://${bucket.name}/x/`);
      expect((error as Error).message).toContain('access denied (SignatureDoesNotMatch, HTTP 403)');
      expect(JSON.stringify(error)).not.toContain(secret);
      expect(String((error as Error).stack)).not.toContain(secret);
      const unknownKey = source({ prefix: 'x/', access_key_id: 'AKIANOTAKEY', max_attempts: 1 });
      const error2 = await run({ prefix: 'x/', access_key_id: 'AKIANOTAKEY', max_attempts: 1 }).catch(
        (e: unknown) => e,
      );
      expect((error2 as Error).message).toContain('access denied (InvalidAccessKeyId, HTTP 403)');
      await unknownKey.close?.();
    });

    it('a missing bucket is named', async () => {
      const error = await run({ bucket: 'no-such-bucket-faucet', max_attempts: 1 }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(
        /bucket "no-such-bucket-faucet" does not exist \(NoSuchBucket\)/,
      );
      expect((error as { code?: string }).code).toBe('SOURCE_FAILED');
    });

    it('no matching key is an error unless allow_empty', async () => {
      const error = await run({ glob: 'nothing/**/*.csv' }).catch((e: unknown) => e);
      expect((error as Error).message).toContain(`no object in s3://${bucket.name}/nothing/`);
      expect((await run({ glob: 'nothing/**/*.csv', allow_empty: true })).records).toEqual([]);
    });

    it('truncated gzip: a DecodeError naming the key and the offsets', async () => {
      const good = gzipSync(encodeJsonlText(rows(1, 2000)));
      // Cut short, as a partial upload would be: the gzip stream ends mid-member.
      const bad = good.subarray(0, Math.floor(good.length / 2));
      await putObject(bucket.client(), bucket.name, 'gz/bad.jsonl.gz', bad);
      const error = await run({ prefix: 'gz/' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DecodeError);
      expect((error as Error).message).toMatch(
        new RegExp(
          `^s3://${bucket.name}/gz/bad\\.jsonl\\.gz: corrupt gzip data \\(Z_[A-Z_]+\\) after decompressed byte \\d+`,
        ),
      );
    });

    it('corrupt Parquet: a DecodeError naming the key and the offset', async () => {
      await putObject(
        bucket.client(),
        bucket.name,
        'pq/bad.parquet',
        Buffer.from('this is not parquet at all'),
      );
      const error = await run({ prefix: 'pq/' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DecodeError);
      expect(
        (error as Error).message.startsWith(
          `s3://${bucket.name}/pq/bad.parquet: not a readable Parquet file: the footer before offset 26 is invalid`,
        ),
      ).toBe(true);
    });

    it('an object deleted between listing and reading is skipped with a warning', async () => {
      const c = bucket.client();
      await putObject(c, bucket.name, 'gone/1.jsonl', encodeJsonlText(rows(1, 1)));
      await putObject(c, bucket.name, 'gone/2.jsonl', encodeJsonlText(rows(2, 1)));
      // A client that deletes gone/1.jsonl just before the source asks for it.
      const deleting = new Proxy(c, {
        get(target, prop, receiver) {
          if (prop !== 'send') return Reflect.get(target, prop, receiver);
          return async (
            command: { constructor: { name: string }; input: { Key?: string } },
            ...rest: unknown[]
          ) => {
            if (command.constructor.name === 'GetObjectCommand' && command.input.Key === 'gone/1.jsonl') {
              await target.send(new DeleteObjectCommand({ Bucket: bucket.name, Key: 'gone/1.jsonl' }));
            }
            return (target.send as (...a: unknown[]) => unknown)(command, ...rest);
          };
        },
      });
      const warnings: string[] = [];
      const s = source({ prefix: 'gone/' }, deleting);
      const logger = { ...silentLogger, warn: (m: string) => warnings.push(m) };
      const records: FaucetRecord[] = [];
      for await (const page of s.read({
        bookmark: undefined,
        batchSize: 10,
        signal: new AbortController().signal,
        logger,
      })) {
        records.push(...page.records);
      }
      expect(records.map((r) => r.id)).toEqual([2]);
      expect(s.progress.skipped).toBe(1);
      expect(warnings).toContain('an object was deleted between listing and reading; skipped');
    });
  });
});

function csvOf(records: FaucetRecord[]): string {
  const keys = Object.keys(records[0] ?? {});
  return `${keys.join(',')}\n${records.map((r) => keys.map((k) => String(r[k])).join(',')).join('\n')}\n`;
}
