// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are about ${…} interpolation syntax
/**
 * Load-time interpolation of pipeline files (ARCHITECTURE §7):
 *
 * - `${env:NAME}` — an environment variable (the process environment, then the `.env` beside the file);
 * - `${file:path}` — the contents of a file, relative to the pipeline file, at most 1 MiB, one
 *   trailing newline removed (secret files usually end with one);
 * - `${parent.path}` — kept as a template, filled per parent record when a DAG child runs;
 * - `$${` — a literal `${`.
 *
 * Every value substituted is recorded with the path it went into, so secrets that arrive this way
 * can be redacted even when they are only part of a field.
 */
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { LocatedIssue } from '../errors.js';
import { ParentTemplate, type TemplatePart } from './template.js';

export const MAX_FILE_INTERPOLATION_BYTES = 1024 * 1024;

export interface InterpolationContext {
  /** Looks a variable up (the process environment first, then `.env`). */
  env: (name: string) => string | undefined;
  /** Directory `${file:…}` paths are relative to. */
  baseDir: string;
  /** Where `.env` values came from, for messages. */
  dotEnvFile?: string;
  /**
   * Whether the string at a path was written unquoted. There, a string that is exactly one
   * `${env:…}` or `${file:…}` takes the type YAML would give the value (`batch_size: ${env:N}` is a
   * number); a quoted one stays a string.
   */
  plain?: (path: string) => boolean;
}

export interface Substitution {
  /** Config path of the string the value went into, e.g. `pipeline.sink.config.connection_url`. */
  path: string;
  kind: 'env' | 'file';
  /** Variable name or file path as written. */
  name: string;
  value: string;
}

export interface InterpolationResult {
  value: unknown;
  issues: LocatedIssue[];
  substitutions: Substitution[];
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PARENT_PATH = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

function readInterpolatedFile(file: string): string {
  const size = statSync(file).size;
  if (size > MAX_FILE_INTERPOLATION_BYTES) {
    throw new Error(
      `is ${size} bytes; \${file:} reads at most ${MAX_FILE_INTERPOLATION_BYTES} bytes (1 MiB)`,
    );
  }
  return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
}

const INTEGER = /^[-+]?\d+$/;
const FLOAT = /^[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?$/;

/** A YAML core-schema scalar from text: integers, floats, booleans and null; anything else stays text. */
export function typedScalar(text: string): string | number | boolean | null {
  const trimmed = text.trim();
  if (INTEGER.test(trimmed)) {
    const n = Number(trimmed);
    return Number.isSafeInteger(n) ? n : text;
  }
  if (FLOAT.test(trimmed)) return Number(trimmed);
  if (/^(?:true|True|TRUE)$/.test(trimmed)) return true;
  if (/^(?:false|False|FALSE)$/.test(trimmed)) return false;
  if (/^(?:null|Null|NULL|~)$/.test(trimmed)) return null;
  return text;
}

const WHOLE_TOKEN = /^\$\{(?:env|file):[^}]*\}$/;

/** Interpolate one string. Returns the final string, a parent template, or the problems found. */
export function interpolateString(
  text: string,
  path: string,
  ctx: InterpolationContext,
  issues: LocatedIssue[],
  substitutions: Substitution[],
): string | ParentTemplate {
  if (!text.includes('${')) return text;
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      literal += text[i];
      i++;
      continue;
    }
    const end = text.indexOf('}', i + 2);
    if (end < 0) {
      issues.push({ path, message: `unclosed "\${" (write "$\${" for a literal "\${")` });
      return text;
    }
    const token = text.slice(i + 2, end);
    i = end + 1;
    if (token.startsWith('env:')) {
      const name = token.slice(4);
      if (!ENV_NAME.test(name)) {
        issues.push({ path, message: `"\${${token}}": ${JSON.stringify(name)} is not a variable name` });
        continue;
      }
      const value = ctx.env(name);
      if (value === undefined) {
        const where = ctx.dotEnvFile
          ? ` or in ${ctx.dotEnvFile}`
          : ' (nor in a .env file beside the pipeline file)';
        issues.push({ path, message: `environment variable ${name} is not set${where}` });
        continue;
      }
      substitutions.push({ path, kind: 'env', name, value });
      literal += value;
    } else if (token.startsWith('file:')) {
      const name = token.slice(5).trim();
      if (!name) {
        issues.push({ path, message: '"${file:}" needs a path' });
        continue;
      }
      const file = isAbsolute(name) ? name : resolve(ctx.baseDir, name);
      try {
        const value = readInterpolatedFile(file);
        substitutions.push({ path, kind: 'file', name, value });
        literal += value;
      } catch (error) {
        const reason =
          (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message;
        issues.push({ path, message: `"\${file:${name}}": ${file} ${reason}` });
      }
    } else if (token.startsWith('parent.')) {
      const parentPath = token.slice(7);
      if (!PARENT_PATH.test(parentPath)) {
        issues.push({ path, message: `"\${${token}}": expected a dotted field path like \${parent.id}` });
        continue;
      }
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ parent: parentPath });
    } else {
      issues.push({
        path,
        message:
          `unknown interpolation "\${${token}}"; use \${env:NAME}, \${file:path} or \${parent.field}, ` +
          'or write "$${" for a literal "${"',
      });
    }
  }
  if (parts.length === 0) return literal;
  if (literal) parts.push(literal);
  return new ParentTemplate(parts);
}

function isPlainObject(value: unknown): value is { [key: string]: unknown } {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** Interpolate every string in a parsed pipeline file. Problems are collected, never thrown. */
export function interpolate(value: unknown, ctx: InterpolationContext): InterpolationResult {
  const issues: LocatedIssue[] = [];
  const substitutions: Substitution[] = [];
  const visit = (node: unknown, path: string): unknown => {
    if (typeof node === 'string') {
      const out = interpolateString(node, path, ctx, issues, substitutions);
      if (typeof out === 'string' && out !== node && WHOLE_TOKEN.test(node) && ctx.plain?.(path)) {
        return typedScalar(out);
      }
      return out;
    }
    if (Array.isArray(node)) return node.map((item, i) => visit(item, `${path}[${i}]`));
    if (isPlainObject(node)) {
      const out: { [key: string]: unknown } = {};
      for (const [key, child] of Object.entries(node)) out[key] = visit(child, path ? `${path}.${key}` : key);
      return out;
    }
    return node;
  };
  return { value: visit(value, ''), issues, substitutions };
}
