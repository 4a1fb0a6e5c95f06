/**
 * The `.env` file beside a pipeline file: `NAME=value` lines that `${env:NAME}` can use. Variables
 * already set in the process environment win, so a deployment can override a checked-in default.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LocatedIssue } from '../errors.js';

export interface DotEnv {
  values: Map<string, string>;
  /** Where the file was read from, or undefined when there is none. */
  file?: string;
  issues: LocatedIssue[];
}

const LINE = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)?$/;

function unquoteDouble(body: string): string {
  return body.replace(/\\([nrt"\\$])/g, (_, c: string) => {
    if (c === 'n') return '\n';
    if (c === 'r') return '\r';
    if (c === 't') return '\t';
    return c;
  });
}

/**
 * Parse `.env` text: `NAME=value`, optional `export `, `#` comments, blank lines, values in single
 * quotes (taken literally), double quotes (`\n`, `\t`, `\"`, `\\` escapes; may span lines) or bare
 * (trailing ` # comment` removed, surrounding spaces trimmed).
 */
export function parseDotEnv(text: string): { values: Map<string, string>; issues: LocatedIssue[] } {
  const values = new Map<string, string>();
  const issues: LocatedIssue[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    if (raw.trim() === '' || raw.trim().startsWith('#')) continue;
    const match = LINE.exec(raw);
    if (!match) {
      issues.push({ path: '', line: i + 1, message: 'expected NAME=value' });
      continue;
    }
    const name = match[1] as string;
    let rest = (match[2] ?? '').trim();
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      let body = rest.slice(1);
      let end = findClosingQuote(body, quote);
      const startLine = i;
      while (end < 0 && quote === '"' && i + 1 < lines.length) {
        i++;
        body += `\n${lines[i] ?? ''}`;
        end = findClosingQuote(body, quote);
      }
      if (end < 0) {
        issues.push({ path: '', line: startLine + 1, message: `${name}: unterminated ${quote} quote` });
        continue;
      }
      rest = body.slice(0, end);
      values.set(name, quote === '"' ? unquoteDouble(rest) : rest);
      continue;
    }
    const comment = rest.search(/\s#/);
    if (comment >= 0) rest = rest.slice(0, comment);
    values.set(name, rest.trim());
  }
  return { values, issues };
}

function findClosingQuote(body: string, quote: string): number {
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '\\' && quote === '"') {
      i++;
      continue;
    }
    if (body[i] === quote) return i;
  }
  return -1;
}

/** Read `<dir>/.env` if it exists. */
export function loadDotEnv(dir: string): DotEnv {
  const file = join(dir, '.env');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { values: new Map(), issues: [] };
    return {
      values: new Map(),
      file,
      issues: [{ path: '', message: `cannot read ${file}: ${(error as Error).message}` }],
    };
  }
  const { values, issues } = parseDotEnv(text);
  return { values, file, issues };
}
