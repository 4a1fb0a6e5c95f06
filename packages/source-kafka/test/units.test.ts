/** The kafka source's pieces without a broker: config rules, decoding, bookmarks, page cutting. */
import { kafkaSourceConfigSchema } from '@faucet/source-kafka';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { buildBookmark, parseBookmark } from '../src/bookmark.js';
import { decodeField, messageRecord } from '../src/decode.js';
import { decodePage } from '../src/pages.js';

const base = { brokers: 'localhost:9092', topics: ['t'], group_id: 'g' };
const message = (offset: number, value: string | null, key: string | null = null): KafkaMessage =>
  ({
    offset: String(offset),
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    timestamp: '1700000000000',
    attributes: 0,
    headers: { h: Buffer.from('v'), multi: [Buffer.from('1'), Buffer.from('2')] },
  }) as KafkaMessage;

describe('config', () => {
  it('defaults, and one of topics or topic_pattern', () => {
    const config = kafkaSourceConfigSchema.parse(base);
    expect(config).toMatchObject({
      auto_offset_reset: 'latest',
      value_format: 'json',
      key_format: 'string',
      isolation_level: 'read_committed',
      idle_timeout: '10s',
      commit_offsets: true,
      auth: { type: 'none' },
      tls: false,
    });
    const both = kafkaSourceConfigSchema.safeParse({ ...base, topic_pattern: 'x' });
    expect(both.success).toBe(false);
    const neither = kafkaSourceConfigSchema.safeParse({ brokers: 'h:1', group_id: 'g' });
    expect(neither.error?.issues[0]?.path).toEqual(['topics']);
    expect(
      kafkaSourceConfigSchema.safeParse({ ...base, topics: undefined, topic_pattern: '(' }).success,
    ).toBe(false);
    expect(kafkaSourceConfigSchema.safeParse({ ...base, brokers: 'no-port' }).success).toBe(false);
    const heartbeat = kafkaSourceConfigSchema.safeParse({
      ...base,
      session_timeout: '2s',
      heartbeat_interval: '3s',
    });
    expect(heartbeat.error?.issues[0]?.path).toEqual(['heartbeat_interval']);
  });
});

describe('decoding', () => {
  it('json, string and bytes; null stays null', () => {
    expect(decodeField(Buffer.from('{"a":[1,2]}'), 'json', 'value')).toEqual({ a: [1, 2] });
    expect(decodeField(Buffer.from('plain'), 'string', 'value')).toBe('plain');
    expect(decodeField(Buffer.from([0, 255]), 'bytes', 'value')).toBe('AP8=');
    expect(decodeField(null, 'json', 'value')).toBeNull();
    expect(() => decodeField(Buffer.from('{'), 'json', 'value')).toThrow(
      'the value is not JSON (value_format: json)',
    );
    expect(() => decodeField(Buffer.from([0xc3, 0x28]), 'string', 'key')).toThrow(
      'the key is not valid UTF-8',
    );
  });

  it('a record has topic, partition, offset, key, value, timestamp and headers', () => {
    expect(
      messageRecord('t', 2, message(7, '{"n":1}', 'k'), { keyFormat: 'string', valueFormat: 'json' }),
    ).toEqual({
      topic: 't',
      partition: 2,
      offset: 7,
      key: 'k',
      value: { n: 1 },
      timestamp: 1700000000000,
      headers: { h: 'v', multi: ['1', '2'] },
    });
  });
});

describe('bookmarks', () => {
  it('round-trip, in a stable order, and name their cluster', () => {
    const bookmark = buildBookmark('c1', [
      { topic: 'b', partition: 1, offset: 5 },
      { topic: 'a', partition: 2, offset: 9 },
      { topic: 'a', partition: 0, offset: 3 },
    ]);
    expect(bookmark).toEqual({
      kind: 'kafka-offsets',
      cluster: 'c1',
      offsets: [
        { topic: 'a', partition: 0, offset: 3 },
        { topic: 'a', partition: 2, offset: 9 },
        { topic: 'b', partition: 1, offset: 5 },
      ],
    });
    expect([...parseBookmark(bookmark, 'c1').keys()]).toEqual(['a:0', 'a:2', 'b:1']);
    expect(parseBookmark(undefined, 'c1').size).toBe(0);
  });

  it('refuses what it cannot use', () => {
    expect(() => parseBookmark({ kind: 'lsn' }, null)).toThrow('has kind "lsn", not kafka-offsets');
    expect(() => parseBookmark({ kind: 'kafka-offsets', cluster: 'x', offsets: [] }, 'y')).toThrow(
      'belongs to Kafka cluster x, but the brokers are cluster y',
    );
    expect(() =>
      parseBookmark({ kind: 'kafka-offsets', offsets: [{ topic: 't', partition: 0, offset: -1 }] }, null),
    ).toThrow('malformed offset entry');
  });
});

describe('cutting pages at an undecodable message', () => {
  const taken = [
    { topic: 't', partition: 0, message: message(4, '{"n":4}') },
    { topic: 't', partition: 1, message: message(8, '{"n":8}') },
    { topic: 't', partition: 0, message: message(5, 'oops', 'k5') },
    { topic: 't', partition: 1, message: message(9, '{"n":9}') },
  ];
  const after = [
    { topic: 't', partition: 0, offset: 6 },
    { topic: 't', partition: 1, offset: 10 },
  ];
  const formats = { key_format: 'string', value_format: 'json' } as const;

  it('fail: a page of what came before, its bookmark right at the bad message, then the error', () => {
    const decoded = decodePage(taken, after, formats, 'fail', 'kafka source (h:1)');
    expect(decoded.pages).toHaveLength(1);
    expect(decoded.pages[0]?.records.map((r) => r.offset)).toEqual([4, 8]);
    expect(decoded.pages[0]?.positions).toEqual([
      { topic: 't', partition: 0, offset: 5 },
      { topic: 't', partition: 1, offset: 9 },
    ]);
    expect(decoded.failure?.message).toBe(
      'kafka source (h:1): topic "t" partition 0 offset 5: the value is not JSON (value_format: json); ' +
        'set on_record_error: dlq in the pipeline to set such messages aside instead',
    );
    expect(decoded.failure?.code).toBe('RECORD_INVALID');
  });

  it('dlq: every good record, and the bad one rejected with its raw bytes and position', () => {
    const decoded = decodePage(taken, after, formats, 'dlq', 'kafka source (h:1)');
    expect(decoded.failure).toBeUndefined();
    expect(decoded.pages[0]?.records.map((r) => r.offset)).toEqual([4, 8, 9]);
    expect(decoded.pages[0]?.positions).toEqual(after);
    expect(decoded.rejected).toEqual([
      {
        error: expect.objectContaining({ code: 'RECORD_INVALID' }),
        raw: Buffer.from('oops').toString('base64'),
        position: {
          topic: 't',
          partition: 0,
          offset: 5,
          timestamp: 1700000000000,
          field: 'value',
          key_base64: 'azU=',
        },
      },
    ]);
  });
});
