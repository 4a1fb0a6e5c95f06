/** `rename_keys`: one regular-expression replace-all on every key. */
import { z } from 'zod';
import { defineTransform } from '../define.js';
import { ConfigError } from '../errors.js';
import { cachedKeyConversion, quote } from './common.js';
import { keyRewriter } from './rewrite-keys.js';

// `u`: keys are Unicode text, so `.` and classes must match whole code points, and Unicode mode
// rejects sloppy escapes at create time instead of silently matching something else.
const REGEX_FLAGS = 'gu';

function compileError(pattern: string): string | undefined {
  try {
    new RegExp(pattern, REGEX_FLAGS);
    return undefined;
  } catch (error) {
    return `invalid regular expression ${quote(pattern)}: ${(error as Error).message}`;
  }
}

export const renameKeysConfigSchema = z.strictObject({
  pattern: z
    .string()
    .min(1)
    .superRefine((pattern, ctx) => {
      const problem = compileError(pattern);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  replacement: z.string(),
  recursive: z.boolean().default(true),
});
export type RenameKeysConfig = z.infer<typeof renameKeysConfigSchema>;

export const renameKeysTransform = defineTransform<RenameKeysConfig>({
  id: 'rename_keys',
  description: 'Rename keys with a regular expression (replace all matches; $1 and $<name> captures)',
  configSchema: renameKeysConfigSchema,
  create(config) {
    const problem = compileError(config.pattern);
    if (problem) {
      throw new ConfigError([{ path: 'pattern', message: problem }], {
        context: 'invalid config for transform "rename_keys"',
      });
    }
    const regex = new RegExp(config.pattern, REGEX_FLAGS);
    const { replacement } = config;
    // A global regex used by String#replace starts at 0 and resets lastIndex, so sharing it is safe.
    const convert = cachedKeyConversion((key) => key.replace(regex, replacement));
    return keyRewriter('rename_keys', convert, config.recursive);
  },
});
