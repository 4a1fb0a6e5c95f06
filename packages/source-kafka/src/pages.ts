/**
 * Messages taken from the reader as pages of records. A message that does not decode either fails
 * the run (after a page holding the records before it, whose bookmark stops right at it) or goes to
 * the dead-letter queue with its position and raw bytes.
 */
import { type FaucetRecord, SourceError, type SourceDeadLetter } from '@faucet/core';
import type { PartitionOffset } from './bookmark.js';
import type { KafkaSourceConfig } from './config.js';
import { DecodeFailure, messageRecord, rawMessage } from './decode.js';
import type { TakenMessage } from './reader.js';

export interface DecodedPage {
  records: FaucetRecord[];
  positions: PartitionOffset[];
}

export interface DecodedMessages {
  pages: DecodedPage[];
  deadLetters: SourceDeadLetter[];
  /** Set when a message did not decode and on_decode_error is fail: thrown after `pages`. */
  failure?: SourceError;
}

/** The positions just before `messages[from]`: each partition's first message from there on. */
function positionsBefore(
  messages: readonly TakenMessage[],
  from: number,
  after: readonly PartitionOffset[],
): PartitionOffset[] {
  const first = new Map<string, number>();
  for (let i = from; i < messages.length; i++) {
    const m = messages[i] as TakenMessage;
    const key = `${m.topic}:${m.partition}`;
    if (!first.has(key)) first.set(key, Number(m.message.offset));
  }
  return after.map((p) => {
    const offset = first.get(`${p.topic}:${p.partition}`);
    return offset === undefined ? p : { ...p, offset };
  });
}

export function decodePage(
  messages: readonly TakenMessage[],
  positions: readonly PartitionOffset[],
  config: Pick<KafkaSourceConfig, 'key_format' | 'value_format' | 'on_decode_error'>,
  where: string,
): DecodedMessages {
  const options = { keyFormat: config.key_format, valueFormat: config.value_format };
  const records: FaucetRecord[] = [];
  const deadLetters: SourceDeadLetter[] = [];
  for (let i = 0; i < messages.length; i++) {
    const { topic, partition, message } = messages[i] as TakenMessage;
    try {
      records.push(messageRecord(topic, partition, message, options));
    } catch (error) {
      if (!(error instanceof DecodeFailure)) throw error;
      const failure = new SourceError(
        `${where}: topic "${topic}" partition ${partition} offset ${message.offset}: ${error.message}`,
        { connector: 'kafka', code: 'SOURCE_DECODE_FAILED', cause: error },
      );
      if (config.on_decode_error === 'dlq') {
        deadLetters.push({ payload: rawMessage(topic, partition, message), error: failure });
        continue;
      }
      const before = positionsBefore(messages, i, positions);
      return {
        pages: records.length > 0 ? [{ records, positions: before }] : [],
        deadLetters,
        failure: new SourceError(
          `${failure.message}; set on_decode_error: dlq to set such messages aside instead`,
          { connector: 'kafka', code: 'SOURCE_DECODE_FAILED', cause: error },
        ),
      };
    }
  }
  return { pages: [{ records, positions: [...positions] }], deadLetters };
}
