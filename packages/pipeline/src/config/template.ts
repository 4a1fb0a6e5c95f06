/**
 * `${parent.path}` templates: strings in a DAG child's source or sink config that are filled, once
 * per parent record, from the record the parent's sink wrote.
 */
import { cursorValue, type FaucetRecord, type JsonObject, type JsonValue } from '@faucet/core';

export type TemplatePart = string | { parent: string };

/**
 * A config string holding `${parent.…}` tokens. A class only so that merging and walking treat it
 * as a value (like a Date), never as an object to descend into.
 */
export class ParentTemplate {
  readonly parts: readonly TemplatePart[];

  constructor(parts: readonly TemplatePart[]) {
    this.parts = parts;
  }

  /** The parent fields this template reads (dotted paths). */
  get paths(): string[] {
    return this.parts.flatMap((part) => (typeof part === 'string' ? [] : [part.parent]));
  }

  /** The text as written (escapes resolved), used where the value is only displayed or checked. */
  get text(): string {
    return this.parts.map((part) => (typeof part === 'string' ? part : `\${parent.${part.parent}}`)).join('');
  }

  /**
   * Fill in the parent's values. A string that is exactly one token takes the value as it is (a
   * number stays a number); otherwise values are joined as text (strings as they are, others as JSON).
   */
  render(parent: FaucetRecord): { value: JsonValue } | { missing: string } {
    const only = this.parts.length === 1 ? this.parts[0] : undefined;
    if (only !== undefined && typeof only !== 'string') {
      const value = cursorValue(parent, only.parent);
      return value === undefined ? { missing: only.parent } : { value };
    }
    let out = '';
    for (const part of this.parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = cursorValue(parent, part.parent);
      if (value === undefined) return { missing: part.parent };
      out += typeof value === 'string' ? value : JSON.stringify(value);
    }
    return { value: out };
  }
}

export function isParentTemplate(value: unknown): value is ParentTemplate {
  return value instanceof ParentTemplate;
}

function isPlainObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Every template in a value, with its path relative to it. */
export function findTemplates(value: unknown, at = ''): Array<{ path: string; template: ParentTemplate }> {
  const out: Array<{ path: string; template: ParentTemplate }> = [];
  const visit = (node: unknown, path: string): void => {
    if (isParentTemplate(node)) out.push({ path, template: node });
    else if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) visit(node[i], `${path}[${i}]`);
    } else if (isPlainObject(node)) {
      for (const [key, child] of Object.entries(node)) visit(child, path ? `${path}.${key}` : key);
    }
  };
  visit(value, at);
  return out;
}

/**
 * Replace every template in a value. `render` decides what a template becomes; the result is plain
 * JSON. Used with the real parent record at run time, and with the template text when a config is
 * checked before any parent record exists.
 */
export function mapTemplates(value: unknown, render: (template: ParentTemplate) => JsonValue): JsonValue {
  if (isParentTemplate(value)) return render(value);
  if (Array.isArray(value)) return value.map((item) => mapTemplates(item, render));
  if (isPlainObject(value)) {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) {
      if (child !== undefined) out[key] = mapTemplates(child, render);
    }
    return out;
  }
  return value as JsonValue;
}
