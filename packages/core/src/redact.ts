/**
 * Secret redaction. Secrets are known two ways: fields marked secret in a connector's config schema
 * (`x-faucet-secret: true` in its JSON Schema, set with `secret()`), and passwords embedded in URLs.
 * A `Redactor` holds the secret values of one run and scrubs them from any text before it reaches
 * an error message, a log line, a DLQ envelope or a metric.
 */
import type { JsonObject, JsonValue } from './types.js';

export const SECRET_KEYWORD = 'x-faucet-secret';
export const REDACTED = '***';

/** Mark a schema (zod 4 or anything with `.meta()`) as holding a secret. */
export function secret<T extends { meta(data: { [SECRET_KEYWORD]: true }): T }>(schema: T): T {
  return schema.meta({ [SECRET_KEYWORD]: true });
}

type SchemaNode = { [key: string]: unknown };

function isNode(value: unknown): value is SchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Paths of secret fields in a JSON Schema, dotted, with `*` for array items and map values:
 * `["auth.token", "headers.*"]`. Follows properties, items, additionalProperties, anyOf/oneOf/allOf
 * and local `$ref`s.
 */
export function secretPaths(schema: JsonObject | SchemaNode): string[] {
  const out = new Set<string>();
  const root = schema as SchemaNode;
  const visit = (node: unknown, path: string, seen: Set<unknown>): void => {
    if (!isNode(node) || seen.has(node)) return;
    const nextSeen = new Set(seen).add(node);
    if (node[SECRET_KEYWORD] === true) {
      out.add(path);
      return;
    }
    const ref = node.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/')) {
      let target: unknown = root;
      for (const part of ref.slice(2).split('/')) target = isNode(target) ? target[part] : undefined;
      visit(target, path, nextSeen);
    }
    const join = (key: string) => (path ? `${path}.${key}` : key);
    if (isNode(node.properties)) {
      for (const [key, child] of Object.entries(node.properties)) visit(child, join(key), nextSeen);
    }
    if (isNode(node.additionalProperties)) visit(node.additionalProperties, join('*'), nextSeen);
    if (isNode(node.items)) visit(node.items, join('*'), nextSeen);
    for (const combinator of ['anyOf', 'oneOf', 'allOf'] as const) {
      const list = node[combinator];
      if (Array.isArray(list)) for (const child of list) visit(child, path, nextSeen);
    }
  };
  visit(schema, '', new Set());
  return [...out];
}

function valuesAt(value: unknown, parts: readonly string[], out: unknown[]): void {
  if (parts.length === 0) {
    out.push(value);
    return;
  }
  const [head, ...rest] = parts;
  if (head === '*') {
    if (Array.isArray(value)) for (const item of value) valuesAt(item, rest, out);
    else if (isNode(value)) for (const item of Object.values(value)) valuesAt(item, rest, out);
    return;
  }
  if (isNode(value) && head !== undefined && head in value) valuesAt(value[head], rest, out);
}

const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/?#\s]+)(@)/gi;

/** Replace the password of any `scheme://user:password@host` in text with `***`. */
export function redactUrlPasswords(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}$3`);
}

function urlPasswords(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') {
    for (const match of value.matchAll(URL_PASSWORD)) {
      const raw = match[2];
      if (raw) {
        out.add(raw);
        try {
          out.add(decodeURIComponent(raw));
        } catch {
          // not percent-encoded: the raw form is enough
        }
      }
    }
  } else if (Array.isArray(value)) {
    for (const item of value) urlPasswords(item, out);
  } else if (isNode(value)) {
    for (const item of Object.values(value)) urlPasswords(item, out);
  }
}

/** Shortest secret value that is scrubbed from free text (shorter ones would mangle messages). */
const MIN_SECRET_LENGTH = 3;

export interface RedactorOptions {
  /**
   * Shortest value scrubbed from free text (default 3). A store that knows its one password exactly
   * (a connection URL's) may use 1.
   */
  minLength?: number;
}

export class Redactor {
  private readonly secrets: string[];
  private readonly minLength: number;

  constructor(secrets: Iterable<string> = [], options: RedactorOptions = {}) {
    this.secrets = [];
    this.minLength = options.minLength ?? MIN_SECRET_LENGTH;
    for (const value of secrets) this.add(value);
  }

  /** Collect the secret values of a config: schema-marked fields plus URL passwords. */
  static forConfig(config: unknown, schema?: JsonObject | SchemaNode): Redactor {
    const found = new Set<string>();
    if (schema) {
      for (const path of secretPaths(schema)) {
        const values: unknown[] = [];
        valuesAt(config, path.split('.'), values);
        for (const v of values) collectStrings(v, found);
      }
    }
    urlPasswords(config, found);
    return new Redactor(found);
  }

  /** Add a secret; its percent-encoded form (as it appears inside URLs) is scrubbed too. */
  add(value: string): this {
    for (const form of new Set([value, encodeURIComponent(value)])) {
      if (form.length >= this.minLength && !this.secrets.includes(form)) this.secrets.push(form);
    }
    // Longest first so a secret containing another is replaced whole.
    this.secrets.sort((a, b) => b.length - a.length);
    return this;
  }

  /** Whether an error (message, stack or any cause) or a value's text contains a secret. */
  mentions(error: unknown): boolean {
    if (this.secrets.length === 0) return false;
    const seen = new Set<unknown>();
    let current: unknown = error;
    while (current !== undefined && current !== null && !seen.has(current)) {
      seen.add(current);
      const text =
        current instanceof Error ? `${current.message}\n${current.stack ?? ''}` : errorText(current);
      if (this.secrets.some((secret) => text.includes(secret))) return true;
      current = current instanceof Error ? current.cause : undefined;
    }
    return false;
  }

  merge(other: Redactor): this {
    for (const value of other.secrets) this.add(value);
    return this;
  }

  get size(): number {
    return this.secrets.length;
  }

  redact(text: string): string {
    let out = redactUrlPasswords(text);
    for (const value of this.secrets) if (out.includes(value)) out = out.split(value).join(REDACTED);
    return out;
  }

  /** Deep copy of a JSON value with every secret string scrubbed. */
  redactValue<T extends JsonValue>(value: T): T {
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v)) as T;
    if (isNode(value)) {
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.redactValue(v as JsonValue);
      return out as T;
    }
    return value;
  }

  /** Scrub an error's message and stack in place (and its causes'), and return it. */
  redactError<E>(error: E): E {
    let current: unknown = error;
    const seen = new Set<unknown>();
    while (current instanceof Error && !seen.has(current)) {
      seen.add(current);
      try {
        current.message = this.redact(current.message);
        if (current.stack) current.stack = this.redact(current.stack);
      } catch {
        // a frozen error: leave it, callers still redact the text they print
      }
      current = current.cause;
    }
    return error;
  }
}

function errorText(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function collectStrings(value: unknown, out: Set<string>): void {
  if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out);
  else if (isNode(value)) for (const item of Object.values(value)) collectStrings(item, out);
}

/** A copy of a config with every schema-marked secret field replaced by `***` (for display). */
export function redactConfig<T>(config: T, schema: JsonObject | SchemaNode): T {
  const paths = secretPaths(schema).map((p) => p.split('.'));
  const clone = structuredClone(config);
  const mask = (value: unknown, parts: readonly string[]): unknown => {
    if (parts.length === 0) return value === undefined || value === null ? value : REDACTED;
    const [head, ...rest] = parts;
    if (head === '*') {
      if (Array.isArray(value)) return value.map((v) => mask(v, rest));
      if (isNode(value)) {
        for (const key of Object.keys(value)) value[key] = mask(value[key], rest);
      }
      return value;
    }
    if (isNode(value) && head !== undefined && head in value) value[head] = mask(value[head], rest);
    return value;
  };
  let out: unknown = clone;
  for (const parts of paths) out = mask(out, parts);
  return Redactor.forConfig({}, undefined).redactValue(out as JsonValue) as T;
}
