// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are about ${…} interpolation syntax
/**
 * Hints for YAML syntax errors that the `yaml` package reports far from their cause. A small scanner
 * follows flow collections (`{ … }`, `[ … ]`) and quotes, line by line:
 * - an unquoted `${env:X}` inside a flow mapping is read as YAML braces and yields dozens of errors;
 *   one message saying "quote it" replaces them;
 * - a flow collection never closed is reported where YAML gives up (often the next line); the line
 *   where it was opened is named too.
 */

export interface FlowOpener {
  char: '{' | '[';
  line: number;
  column: number;
  offset: number;
}

export interface UnquotedInterpolation {
  text: string;
  line: number;
  column: number;
}

interface ScanResult {
  /** Openers still unclosed when the scan reached `until`. */
  open: FlowOpener[];
  unquoted: UnquotedInterpolation[];
}

const CLOSER: Record<string, '{' | '['> = { '}': '{', ']': '[' };

/** Where a block value may start a flow collection: after `key:`, `-`, or at the start of a line. */
function startsValue(before: string): boolean {
  return /(^|:|-)\s*$/.test(before);
}

function scan(text: string, until = text.length): ScanResult {
  const open: FlowOpener[] = [];
  const unquoted: UnquotedInterpolation[] = [];
  let quote: '"' | "'" | undefined;
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < until; i++) {
    const ch = text[i] as string;
    if (ch === '\n') {
      line++;
      lineStart = i + 1;
      if (open.length === 0) quote = undefined;
      continue;
    }
    if (quote) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '#' && (i === lineStart || /\s/.test(text[i - 1] ?? ''))) {
      const end = text.indexOf('\n', i);
      i = (end === -1 ? until : Math.min(end, until)) - 1;
      continue;
    }
    const column = i - lineStart + 1;
    if (ch === '"' || ch === "'") {
      if (open.length > 0 || /(^|[:\-,[{]\s*)$/.test(text.slice(lineStart, i))) quote = ch;
    } else if (ch === '$' && text[i + 1] === '{' && open.length > 0) {
      const end = text.indexOf('}', i);
      unquoted.push({ text: text.slice(i, end === -1 ? i + 2 : end + 1), line, column });
      i = end === -1 ? i + 1 : end;
    } else if (ch === '{' || ch === '[') {
      if (open.length > 0 || startsValue(text.slice(lineStart, i)))
        open.push({ char: ch, line, column, offset: i });
    } else if ((ch === '}' || ch === ']') && open.at(-1)?.char === CLOSER[ch]) {
      open.pop();
    }
  }
  return { open, unquoted };
}

/** Every `${…}` written unquoted inside a flow collection (`{ path: ${env:IN} }`). */
export function unquotedInterpolations(text: string): UnquotedInterpolation[] {
  return scan(text).unquoted;
}

/** The innermost flow collection still open at `offset` and opened on an earlier line, if any. */
export function unclosedOpenerBefore(text: string, offset: number): FlowOpener | undefined {
  const { open } = scan(text, Math.min(offset, text.length));
  const outermost = open.at(0);
  if (!outermost) return undefined;
  const lineOfOffset = text.slice(0, offset).split('\n').length;
  return outermost.line < lineOfOffset ? outermost : undefined;
}
