/** The built-in transforms by id, building one from a pipeline-file spec, and chaining several. */
import { type TransformDescriptor, validateConfig } from '../define.js';
import { ConfigError, errorMessage, isFaucetError, TransformError } from '../errors.js';
import type { FaucetRecord, Transform } from '../types.js';
import { castTransform } from './cast.js';
import { cdcUnwrapTransform } from './cdc-unwrap.js';
import { hasOwn } from './common.js';
import { dropTransform, selectTransform, setTransform } from './fields.js';
import { filterTransform } from './filter.js';
import { flattenTransform } from './flatten.js';
import { keysCaseTransform, snakeCaseTransform } from './keys-case.js';
import { renameKeysTransform } from './rename-keys.js';

export const builtinTransforms = Object.freeze({
  flatten: flattenTransform,
  rename_keys: renameKeysTransform,
  snake_case: snakeCaseTransform,
  keys_case: keysCaseTransform,
  select: selectTransform,
  drop: dropTransform,
  set: setTransform,
  cast: castTransform,
  filter: filterTransform,
  cdc_unwrap: cdcUnwrapTransform,
});
export type BuiltinTransformId = keyof typeof builtinTransforms;

/** A transform as written in a pipeline file: `{ type: flatten, config: { separator: "__" } }`. */
export interface TransformSpec {
  type: string;
  config?: unknown;
}

/** The built-in descriptor with this id, or undefined (inherited names like `toString` are not ids). */
export function builtinTransform(id: string): TransformDescriptor<unknown> | undefined {
  return hasOwn(builtinTransforms, id) ? builtinTransforms[id as BuiltinTransformId] : undefined;
}

function join(at: string | undefined, key: string): string {
  return at ? `${at}.${key}` : key;
}

/**
 * Build a built-in transform from its spec. `at` is where the spec sits in the pipeline file (e.g.
 * `pipeline.transforms[2]`); errors point at `<at>.type` and `<at>.config.<key>`. A missing or null
 * config means "all defaults". Throws ConfigError for an unknown type or an invalid config.
 */
export async function createTransform(spec: TransformSpec, at?: string): Promise<Transform> {
  const descriptor = builtinTransform(spec.type);
  if (!descriptor) {
    const available = Object.keys(builtinTransforms).sort().join(', ');
    throw new ConfigError([
      {
        path: join(at, 'type'),
        message: `unknown transform type ${JSON.stringify(spec.type)}; available: ${available}`,
      },
    ]);
  }
  const config = await validateConfig(descriptor, spec.config ?? {}, { at: join(at, 'config') });
  return descriptor.create(config);
}

/**
 * Chain transforms into one function from a record to the records it becomes (none when filtered
 * out, several when exploded). A transform error is rethrown as is; anything else thrown, or a
 * return value that is not a record, array or null, becomes a TransformError naming the step.
 */
export function composeTransformsInto(
  transforms: readonly Transform[],
): (record: FaucetRecord, out: FaucetRecord[]) => void {
  const chain = [...transforms];
  const count = chain.length;

  const step = (index: number, record: FaucetRecord): ReturnType<Transform> | undefined => {
    let result: ReturnType<Transform> | undefined;
    try {
      result = (chain[index] as Transform)(record);
    } catch (error) {
      if (isFaucetError(error)) throw error;
      throw new TransformError(`transforms[${index}] failed: ${errorMessage(error)}`, { cause: error });
    }
    if (result !== null && result !== undefined && typeof result !== 'object') {
      throw new TransformError(
        `transforms[${index}] returned ${typeof result}; a transform returns a record, an array of ` +
          'records, or null to drop the record',
      );
    }
    return result;
  };

  // Runs the chain from `from` on one record, pushing what comes out onto `out`. While every step
  // maps one record to one, no intermediate arrays are made.
  const runFrom = (record: FaucetRecord, from: number, out: FaucetRecord[]): void => {
    let current = record;
    for (let i = from; i < count; i++) {
      const result = step(i, current);
      if (result === null || result === undefined) return;
      if (Array.isArray(result)) {
        for (const item of result) runFrom(item, i + 1, out);
        return;
      }
      current = result;
    }
    out.push(current);
  };

  return (record, out) => runFrom(record, 0, out);
}

/** Like `composeTransformsInto`, returning the output records of one input record. */
export function composeTransforms(
  transforms: readonly Transform[],
): (record: FaucetRecord) => FaucetRecord[] {
  const apply = composeTransformsInto(transforms);
  return (record) => {
    const out: FaucetRecord[] = [];
    apply(record, out);
    return out;
  };
}
