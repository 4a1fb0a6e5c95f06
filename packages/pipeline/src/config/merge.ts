/**
 * Matrix rows are deep-merged onto `pipeline`: objects merge key by key, recursively; arrays and
 * scalars replace. `null` replaces too (a row's `dlq: null` turns the dead-letter queue off).
 */

function isPlainObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** A new value: `override` merged onto `base`. Neither input is changed. */
export function deepMerge(base: unknown, override: unknown): unknown {
  if (override === undefined) return clone(base);
  if (!isPlainObject(base) || !isPlainObject(override)) return clone(override);
  const out: { [key: string]: unknown } = {};
  for (const [key, value] of Object.entries(base)) out[key] = clone(value);
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    out[key] = key in out ? deepMerge(out[key], value) : clone(value);
  }
  return out;
}

function clone(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(clone);
  if (isPlainObject(value)) {
    const out: { [key: string]: unknown } = {};
    for (const [key, child] of Object.entries(value)) out[key] = clone(child);
    return out;
  }
  return value;
}

/**
 * Merge a row's connector block (`{type, config}`) onto the pipeline's. When the row names another
 * `type`, its `config` replaces the pipeline's instead of merging: the keys of one connector mean
 * nothing to another.
 */
export function mergeConnectorBlock(base: unknown, override: unknown): unknown {
  if (
    isPlainObject(base) &&
    isPlainObject(override) &&
    typeof override.type === 'string' &&
    override.type !== base.type
  ) {
    const { config: _dropped, ...rest } = base;
    return deepMerge(rest, override);
  }
  return deepMerge(base, override);
}
