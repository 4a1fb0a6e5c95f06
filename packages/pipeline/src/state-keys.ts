/**
 * State keys (ARCHITECTURE §5): `{name}::{row}` for a row, `{name}::{row}::{parentKeyValue}` for each
 * invocation of a DAG child. A child row's keys are all computed, and checked for problems and
 * duplicates, before any of its invocations runs.
 */
import { cursorValue, type FaucetRecord, pipelineStateKey, stateKeyProblem } from '@faucet/core';

export function rowStateKey(pipeline: string, row: string): string {
  return pipelineStateKey(pipeline, row);
}

/** The text a parent's key field contributes: strings as they are, other values as JSON. */
export function parentKeyValue(parent: FaucetRecord, parentKey: string): string | undefined {
  const value = cursorValue(parent, parentKey);
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface ChildKeys {
  /** One key per parent record, in order (undefined where the record gave none). */
  keys: Array<string | undefined>;
  problems: string[];
}

const MAX_LISTED = 5;

/** The state keys of a child row's invocations, with every problem (missing values, bad characters, duplicates). */
export function childStateKeys(
  pipeline: string,
  row: string,
  parentKey: string,
  parents: readonly FaucetRecord[],
): ChildKeys {
  const keys: Array<string | undefined> = [];
  const problems: string[] = [];
  const firstSeen = new Map<string, number>();
  const duplicates: string[] = [];
  let missing = 0;
  let invalid = 0;
  parents.forEach((parent, i) => {
    const value = parentKeyValue(parent, parentKey);
    if (value === undefined) {
      keys.push(undefined);
      if (missing++ < MAX_LISTED) {
        problems.push(`parent record ${i + 1} has no "${parentKey}" (parent_key) to name its state key`);
      }
      return;
    }
    const key = pipelineStateKey(pipeline, row, value);
    const problem = stateKeyProblem(key);
    if (problem) {
      keys.push(undefined);
      if (invalid++ < MAX_LISTED) problems.push(`parent record ${i + 1}: ${problem}`);
      return;
    }
    const earlier = firstSeen.get(key);
    if (earlier !== undefined) {
      if (duplicates.length < MAX_LISTED) {
        duplicates.push(`"${key}" (parent records ${earlier + 1} and ${i + 1})`);
      } else duplicates.push('');
    } else firstSeen.set(key, i);
    keys.push(key);
  });
  if (missing > MAX_LISTED) problems.push(`… ${missing - MAX_LISTED} more records without "${parentKey}"`);
  if (invalid > MAX_LISTED) problems.push(`… ${invalid - MAX_LISTED} more invalid keys`);
  if (duplicates.length > 0) {
    const listed = duplicates.filter(Boolean);
    const more = duplicates.length - listed.length;
    problems.push(
      `duplicate state keys: ${listed.join(', ')}${more > 0 ? ` and ${more} more` : ''}; ` +
        `each parent record must have a distinct "${parentKey}" (set parent_key to a unique field)`,
    );
  }
  return { keys, problems };
}
