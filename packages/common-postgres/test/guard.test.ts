/** guardClient: a client whose connection breaks never crashes the process, and says why it broke. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { failureOf, guardClient, lostConnection } from '../src/index.js';

describe('guardClient', () => {
  it('listens for the lost connection, keeps the first error and tells onLost once', () => {
    const client = new EventEmitter();
    const heard: Error[] = [];
    guardClient(client, (error) => heard.push(error));
    const fatal = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    // Without a listener, emitting 'error' throws (in a real client: an uncaught exception).
    client.emit('error', fatal);
    client.emit('error', new Error('Connection terminated unexpectedly'));
    expect(heard).toEqual([fatal]);
    expect(lostConnection(client)).toBe(fatal);
    expect(
      failureOf(client, new Error('Client has encountered a connection error and is not queryable')),
    ).toBe(fatal);
  });

  it('adds one listener however often a pooled client is guarded', () => {
    const client = new EventEmitter();
    for (let i = 0; i < 20; i++) guardClient(client);
    expect(client.listenerCount('error')).toBe(1);
  });

  it('leaves a healthy client and non-emitters alone', () => {
    const client = new EventEmitter();
    guardClient(client);
    const error = new Error('syntax error');
    expect(lostConnection(client)).toBeUndefined();
    expect(failureOf(client, error)).toBe(error);
    const fake = { query: async () => ({ rows: [] }) };
    expect(() => guardClient(fake)).not.toThrow();
    expect(failureOf(fake, error)).toBe(error);
  });
});
