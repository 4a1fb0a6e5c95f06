/**
 * Messages taken from the reader as pages of records. A message that does not decode either fails
 * the run (after a page holding the records before it, whose bookmark stops right at it), or, when
 * the pipeline sets `on_record_error: dlq`, rides along in `Page.rejected` with its position and raw
 * bytes (base64) for the engine to dead-letter before the bookmark that passes it is stored.
 */
import { type FaucetRecord, type RecordErrorPolicy, type RejectedRecord, SourceError } from '@faucet/core';
import type { PartitionOffset } from './bookmark.js';
import type { KafkaSourceConfig } from './config.js';
import { DecodeFailure, messageRecord, rejectedMessage } from './decode.js';
import type { TakenMessage } from './reader.js';

/** The error code of an undecodable message (core's ErrorCodes.RECORD_INVALID). */
const RECORD_INVALID = 'RECORD_INVALID';

export interface DecodedPage {
  records: FaucetRecord[];
  positions: PartitionOffset[];
}

export interface DecodedMessages {
  pages: DecodedPage[];
  rejected: RejectedRecord[];
  /** Set when a message did not decode and the run does not set it aside: thrown after `pages`. */
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
  config: Pick<KafkaSourceConfig, 'key_format' | 'value_format'>,
  onRecordError: RecordErrorPolicy,
  where: string,
): DecodedMessages {
  const options = { keyFormat: config.key_format, valueFormat: config.value_format };
  const records: FaucetRecord[] = [];
  const rejected: RejectedRecord[] = [];
  for (let i = 0; i < messages.length; i++) {
    const { topic, partition, message } = messages[i] as TakenMessage;
    try {
      records.push(messageRecord(topic, partition, message, options));
    } catch (error) {
      if (!(error instanceof DecodeFailure)) throw error;
      const failure = new SourceError(
        `${where}: topic "${topic}" partition ${partition} offset ${message.offset}: ${error.message}`,
        { connector: 'kafka', code: RECORD_INVALID, cause: error },
      );
      if (onRecordError === 'dlq') {
        rejected.push(rejectedMessage(topic, partition, message, error.field, failure));
        continue;
      }
      const before = positionsBefore(messages, i, positions);
      return {
        pages: records.length > 0 ? [{ records, positions: before }] : [],
        rejected,
        failure: new SourceError(
          `${failure.message}; set on_record_error: dlq in the pipeline to set such messages aside instead`,
          { connector: 'kafka', code: RECORD_INVALID, cause: error },
        ),
      };
    }
  }
  return { pages: [{ records, positions: [...positions] }], rejected };
}
