/** Transforms applied to a page, record by record; a record a transform rejects fails the run or is set aside. */
import { errorMessage, TransformError } from '../errors.js';
import type { FaucetRecord, RecordErrorPolicy } from '../types.js';

export type ApplyTransforms = (record: FaucetRecord, out: FaucetRecord[]) => void;

/** A record a transform threw on, as the source read it, with its position in the page. */
export interface TransformReject {
  record: FaucetRecord;
  index: number;
  error: TransformError;
}

export interface TransformedPage {
  records: FaucetRecord[];
  rejects: TransformReject[];
}

/**
 * Apply the transform chain to every record. With policy `fail` the first error fails the run
 * (naming the record and page); with `dlq` the record is collected for the DLQ and the rest go on.
 */
export function transformPage(
  records: FaucetRecord[],
  apply: ApplyTransforms | undefined,
  pageNo: number,
  policy: RecordErrorPolicy,
): TransformedPage {
  if (!apply) return { records, rejects: [] };
  const out: FaucetRecord[] = [];
  const rejects: TransformReject[] = [];
  for (let i = 0; i < records.length; i++) {
    const record = records[i] as FaucetRecord;
    const before = out.length;
    try {
      apply(record, out);
    } catch (cause) {
      const error = new TransformError(`${errorMessage(cause)} (record ${i} of page ${pageNo})`, { cause });
      if (policy !== 'dlq') throw error;
      // A chain that exploded the record may have pushed part of it: none of it goes on.
      out.length = before;
      rejects.push({ record, index: i, error });
    }
  }
  return { records: out, rejects };
}
