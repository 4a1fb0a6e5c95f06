import type { Redactor } from './redact.js';
import type { JsonObject, Logger, LogLevel } from './types.js';

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** One JSON object per line on stderr: `{"level":"info","msg":"...",...fields}`. */
export function createConsoleLogger(
  options: { level?: LogLevel; stream?: NodeJS.WritableStream; bindings?: JsonObject } = {},
): Logger {
  const min = LEVELS[options.level ?? 'info'];
  const stream = options.stream ?? process.stderr;
  const log = (level: LogLevel) => (msg: string, fields?: JsonObject) => {
    if (LEVELS[level] < min) return;
    stream.write(
      `${JSON.stringify({ level, time: new Date().toISOString(), msg, ...options.bindings, ...fields })}\n`,
    );
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/** A logger that scrubs secrets and never throws into the caller (I5: logging never fails a run). */
export function safeLogger(inner: Logger, redactor?: Redactor, bindings?: JsonObject): Logger {
  const wrap =
    (level: LogLevel) =>
    (msg: string, fields?: JsonObject): void => {
      try {
        const merged = bindings || fields ? { ...bindings, ...fields } : undefined;
        if (redactor) {
          inner[level](redactor.redact(msg), merged ? redactor.redactValue(merged) : undefined);
        } else {
          inner[level](msg, merged);
        }
      } catch {
        // a broken log sink must not break the run
      }
    };
  return { debug: wrap('debug'), info: wrap('info'), warn: wrap('warn'), error: wrap('error') };
}
