/**
 * Sending a plan. Plainly (at-least-once): each partition's chunk is its own request, so what the
 * broker refuses is known per partition; a chunk refused for what it holds (a record the broker
 * rejects) was not written at all (a partition appends a record batch whole or not at all), and is
 * sent again one message at a time to find the rows to report. One request for several partitions
 * would be cheaper (bench/kafkajs-producer.mjs) but is not safe with kafkajs's idempotent producer:
 * when the broker refuses one partition of a request, kafkajs winds back the sequence numbers of
 * every partition in it, including those the broker appended, and the next batch sent to one of
 * those with the same number of messages would be taken by the broker for a re-sent duplicate and
 * dropped. In a transaction (effectively-once):
 * one request per round and the commit token last; any refusal aborts it and fails the write.
 */
import { CompressionTypes, type Message, type Producer, type Transaction } from 'kafkajs';
import type { PartitionChunk, SendPlan } from './plan.js';
import type { Outgoing } from './prepare.js';

/** Broker errors about the records sent (not the connection, the leader or the request). */
const RECORD_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'INVALID_TIMESTAMP',
  'POLICY_VIOLATION',
  'INVALID_PRODUCER_EPOCH_FOR_RECORD',
]);

export interface SendSettings {
  acks: -1 | 0 | 1;
  compression: CompressionTypes;
  /** The type of a kafkajs error (after its retries), or undefined. */
  errorType: (error: unknown) => string | undefined;
}

export function compressionOf(name: 'none' | 'gzip'): CompressionTypes {
  return name === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
}

function toMessage(m: Outgoing, partition: number): Message {
  const message: Message = { key: m.key, value: m.value, partition };
  if (m.headers) message.headers = m.headers;
  return message;
}

function sendChunk(
  producer: Producer,
  chunk: PartitionChunk,
  settings: SendSettings,
  messages = chunk.messages,
) {
  return producer.send({
    topic: chunk.topic,
    acks: settings.acks,
    compression: settings.compression,
    messages: messages.map((m) => toMessage(m, chunk.partition)),
  });
}

export interface RowRejection {
  index: number;
  error: unknown;
}

/** Send plainly; resolves with the rows the broker refused. Throws when a request failed otherwise. */
export async function sendPlain(
  producer: Producer,
  plan: SendPlan,
  settings: SendSettings,
): Promise<RowRejection[]> {
  const rejected: RowRejection[] = [];
  for (const round of plan.rounds) {
    const outcomes = await Promise.allSettled(round.map((chunk) => sendChunk(producer, chunk, settings)));
    let fatal: unknown;
    for (const [i, outcome] of outcomes.entries()) {
      if (outcome.status === 'fulfilled') continue;
      const chunk = round[i] as PartitionChunk;
      if (!RECORD_ERRORS.has(settings.errorType(outcome.reason) ?? '')) {
        fatal ??= outcome.reason;
        continue;
      }
      for (const message of chunk.messages) {
        try {
          await sendChunk(producer, chunk, settings, [message]);
        } catch (error) {
          if (!RECORD_ERRORS.has(settings.errorType(error) ?? '')) throw error;
          rejected.push({ index: message.index, error });
        }
      }
    }
    if (fatal !== undefined) throw fatal;
  }
  return rejected;
}

/** Send every round and the commit token in one transaction, and commit it. */
export async function sendTransaction(
  producer: Producer,
  plan: SendPlan,
  token: { topic: string; scope: string; token: string },
  settings: Omit<SendSettings, 'acks'>,
): Promise<void> {
  const transaction: Transaction = await producer.transaction();
  try {
    for (const round of plan.rounds) {
      await transaction.sendBatch({
        acks: -1,
        compression: settings.compression,
        topicMessages: round.map((chunk) => ({
          topic: chunk.topic,
          messages: chunk.messages.map((m) => toMessage(m, chunk.partition)),
        })),
      });
    }
    await transaction.send({
      topic: token.topic,
      acks: -1,
      messages: [{ key: token.scope, value: token.token }],
    });
    await transaction.commit();
  } catch (error) {
    await transaction.abort().catch(() => {});
    throw error;
  }
}
