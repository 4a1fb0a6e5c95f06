/**
 * Redis connections for BullMQ from a `redis://` URL, and a quick probe so an unreachable server
 * is one clear error naming host:port instead of ioredis reconnecting forever.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { QueueUnreachableError } from './errors.js';

/** `host:port` of a redis URL, for messages (never the credentials). */
export function redisEndpoint(url: string): string {
  const parsed = parseRedisUrl(url);
  return `${parsed.host}:${parsed.port}`;
}

interface RedisUrl {
  protocol: string;
  host: string;
  port: string;
  username: string;
  password: string;
  pathname: string;
}

function parseRedisUrl(url: string): RedisUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueUnreachableError(url.replace(/\/\/[^@/]*@/, '//***@'), 'not a redis:// URL');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new QueueUnreachableError(
      `${parsed.hostname}`,
      'the queue URL must start with redis:// or rediss://',
    );
  }
  return {
    protocol: parsed.protocol,
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port || '6379',
    username: parsed.username,
    password: parsed.password,
    pathname: parsed.pathname,
  };
}

/** ioredis options for BullMQ (which requires `maxRetriesPerRequest: null` on worker connections). */
export function connectionOptions(url: string): RedisOptions {
  const parsed = parseRedisUrl(url);
  const db = Number.parseInt(parsed.pathname.replace(/^\//, '') || '0', 10);
  return {
    host: parsed.host,
    port: Number(parsed.port),
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(Number.isFinite(db) && db > 0 ? { db } : {}),
    ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
  };
}

/** Connect once and PING, giving up after `timeoutMs`; throws QueueUnreachableError. */
export async function probeRedis(url: string, timeoutMs = 5000): Promise<void> {
  const endpoint = redisEndpoint(url);
  const client = new Redis({
    ...connectionOptions(url),
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The socket's own error (ECONNREFUSED…) arrives as an event; connect() only says the connection closed.
  let socketError: unknown;
  client.on('error', (error) => {
    socketError ??= error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    const code = (socketError as { code?: unknown } | undefined)?.code ?? (error as { code?: unknown }).code;
    const reason = typeof code === 'string' ? `connection failed (${code})` : 'no answer';
    throw new QueueUnreachableError(endpoint, reason, { cause: error });
  } finally {
    client.disconnect();
  }
}
