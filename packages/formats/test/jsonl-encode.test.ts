import { describe, expect, it } from 'vitest';
import { createJsonlEncoder } from '../src/index.js';

type FaucetRecordLike = Record<string, unknown>;

/** What the encoder must produce, byte for byte: JSON.stringify of each record and a line feed. */
function expected(records: readonly unknown[]): Buffer {
  return Buffer.from(records.map((r) => `${JSON.stringify(r)}\n`).join(''), 'utf8');
}

function encoded(records: readonly FaucetRecordLike[], initialBytes?: number): Buffer {
  const encoder = createJsonlEncoder(initialBytes === undefined ? {} : { initialBytes });
  encoder.encode(records as never);
  return Buffer.from(encoder.take());
}

/** The first line where two outputs differ (as text), or undefined when they are equal. */
function firstDifference(actual: Buffer, wanted: Buffer): string | undefined {
  if (actual.equals(wanted)) return undefined;
  const a = actual.toString('utf8').split('\n');
  const b = wanted.toString('utf8').split('\n');
  const line = a.findIndex((text, i) => text !== b[i]);
  return `line ${line + 1}: got ${JSON.stringify(a[line])}, want ${JSON.stringify(b[line])}`;
}

/** A seeded PRNG (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const AWKWARD_UNITS = [
  0x22, 0x5c, 0x2f, 0x7f, 0x80, 0x9f, 0xa0, 0xe9, 0x7ff, 0x800, 0x2028, 0x2029, 0xfeff, 0xfffd, 0xffff, 0x00,
  0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0xd800, 0xdbff, 0xdc00, 0xdfff,
];

function randomString(random: () => number): string {
  const length = Math.floor(random() * 40);
  let out = '';
  for (let i = 0; i < length; i++) {
    const pick = random();
    if (pick < 0.6) out += String.fromCharCode(0x20 + Math.floor(random() * 95));
    else if (pick < 0.85)
      out += String.fromCharCode(AWKWARD_UNITS[Math.floor(random() * AWKWARD_UNITS.length)] as number);
    else if (pick < 0.95) out += '😀';
    else out += String.fromCharCode(Math.floor(random() * 0x10000));
  }
  return out;
}

function randomValue(random: () => number, depth = 0): unknown {
  const pick = random();
  if (pick < 0.45) return randomString(random);
  if (pick < 0.55) return Math.floor(random() * 2 ** 40) - 2 ** 39;
  if (pick < 0.6)
    return [0.1, -0, 1e21, 1e-7, 5e-324, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53 + 2][
      Math.floor(random() * 8)
    ];
  if (pick < 0.65) return random() < 0.5;
  if (pick < 0.7) return null;
  if (pick < 0.75 && depth < 2) return [randomValue(random, depth + 1), randomValue(random, depth + 1)];
  if (pick < 0.8 && depth < 2)
    return { k: randomValue(random, depth + 1), 'é"\n': randomValue(random, depth + 1) };
  if (pick < 0.83) return undefined;
  return randomString(random);
}

describe('JSON Lines encoder', () => {
  it('writes exactly what JSON.stringify writes, for records of one shape', () => {
    const records = Array.from({ length: 500 }, (_, i) => ({
      id: String(i),
      name: i % 3 === 0 ? 'Zoë' : 'Ada',
      note: i % 5 === 0 ? 'say "hi"\\ then \n go' : 'plain',
      attributes: '{"tier":"pro","tags":["a","b"]}',
    }));
    expect(firstDifference(encoded(records), expected(records))).toBeUndefined();
  });

  it('writes exactly what JSON.stringify writes for 20,000 random records of mixed shapes and values', () => {
    const random = prng(42);
    const keys = ['id', 'name', '1', '0', '__proto__x', 'ä', 'with "quote"', 'tab\there', ''];
    const records = Array.from({ length: 20_000 }, () => {
      const record: Record<string, unknown> = {};
      const count = 1 + Math.floor(random() * 5);
      for (let i = 0; i < count; i++)
        record[keys[Math.floor(random() * keys.length)] as string] = randomValue(random);
      return record;
    });
    // A small start, so the buffer grows in the middle of records and strings.
    expect(firstDifference(encoded(records, 1024), expected(records))).toBeUndefined();
  });

  it('takes the JSON.stringify path for what only it gets right', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const inherited = Object.create({ inheritedKey: 'not written' }) as Record<string, unknown>;
    inherited.own = 1;
    const withGetter = {
      get computed() {
        return 'got';
      },
      plain: 1,
    };
    const records = [
      { a: 1, when: new Date(Date.UTC(2024, 0, 2)) },
      { a: 1, skipped: undefined, fn: () => 1 },
      { a: 1, nested: { toJSON: (key: string) => `key=${key}` } },
      { toJSON: () => ({ replaced: true }) },
      { toJSON: 'a column named toJSON', constructor: 'and one named constructor' },
      Object.assign(Object.create(null), { nullProto: 'yes' }),
      new Point(1, 2),
      inherited,
      withGetter,
      {},
      { ['__proto__']: 'own key' },
      { big: 1 } as Record<string, unknown>,
      { '2': 'b', '1': 'a', z: 'z', '10': 'ten' },
    ];
    Object.defineProperty(records[11], '__proto__', { value: 'defined', enumerable: true });
    expect(firstDifference(encoded(records as never), expected(records))).toBeUndefined();
  });

  it('throws what JSON.stringify throws for a record it cannot hold', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const encoder = createJsonlEncoder();
    expect(() => encoder.encode([cyclic as never])).toThrow(TypeError);
    expect(() => encoder.encode([{ n: 1n } as never])).toThrow(TypeError);
  });

  it('appends text, counts bytes, and starts over after take()', () => {
    const encoder = createJsonlEncoder({ initialBytes: 16 });
    encoder.appendText('\n');
    encoder.encode([{ a: 'ü' }]);
    expect(encoder.size).toBe(Buffer.byteLength('\n{"a":"ü"}\n'));
    expect(encoder.take().toString('utf8')).toBe('\n{"a":"ü"}\n');
    expect(encoder.size).toBe(0);
    encoder.encode([{ a: 'x'.repeat(10_000) }, { b: 2 }]);
    expect(encoder.take().toString('utf8')).toBe(`{"a":"${'x'.repeat(10_000)}"}\n{"b":2}\n`);
  });

  it('stops after the record that reaches untilBytes, and resumes from the index it returns', () => {
    const records = Array.from({ length: 50 }, (_, i) => ({ id: i, text: 'y'.repeat(100) }));
    const encoder = createJsonlEncoder({ initialBytes: 1024 });
    const chunks: Buffer[] = [];
    let next = 0;
    while (next < records.length) {
      const before = next;
      next = encoder.encode(records, next, 1000);
      expect(next).toBeGreaterThan(before);
      expect(encoder.size).toBeLessThan(1000 + 200);
      chunks.push(Buffer.from(encoder.take()));
    }
    expect(chunks.length).toBeGreaterThan(1);
    expect(firstDifference(Buffer.concat(chunks), expected(records))).toBeUndefined();
    // A huge record grows the buffer; after take() the encoder goes back to a small one, and the
    // bytes taken stay intact.
    encoder.encode([{ big: 'z'.repeat(100_000) }]);
    const big = encoder.take();
    encoder.encode([{ small: 1 }]);
    expect(big.toString('utf8')).toBe(`{"big":"${'z'.repeat(100_000)}"}\n`);
    expect(encoder.take().toString('utf8')).toBe('{"small":1}\n');
  });
});
