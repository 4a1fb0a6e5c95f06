/**
 * `keys_case` and its shorthand `snake_case`: re-case every key with the tokenizer of the Rust
 * original, so pipelines moved from it produce the same column names.
 */
import { z } from 'zod';
import { defineTransform } from '../define.js';
import { cachedKeyConversion } from './common.js';
import { keyRewriter } from './rewrite-keys.js';

export const KEY_CASE_MODES = ['snake', 'camel', 'pascal', 'kebab', 'screaming_snake'] as const;
export type KeyCaseMode = (typeof KEY_CASE_MODES)[number];

const ALPHANUMERIC = /^[\p{Alphabetic}\p{N}]$/u;
const LOWERCASE = /^\p{Lowercase}$/u;
const UPPERCASE = /^\p{Uppercase}$/u;

/**
 * Split a key into words: on every character that is not a letter or digit, and where a lowercase
 * letter is followed by an uppercase one. Digits are not lowercase, so `field1Name` stays one word,
 * and a run of capitals is one word (`XMLParser`), while `userID` is `user` + `ID`.
 */
export function splitKeyWords(key: string): string[] {
  const words: string[] = [];
  let word = '';
  let previousLower = false;
  for (const char of key) {
    if (!ALPHANUMERIC.test(char)) {
      if (word) words.push(word);
      word = '';
      previousLower = false;
      continue;
    }
    if (previousLower && word && UPPERCASE.test(char)) {
      words.push(word);
      word = '';
    }
    word += char;
    previousLower = LOWERCASE.test(char);
  }
  if (word) words.push(word);
  return words;
}

function capitalize(word: string): string {
  const first = String.fromCodePoint(word.codePointAt(0) as number);
  return first.toUpperCase() + word.slice(first.length).toLowerCase();
}

/** Re-case one key. A key with no letters or digits (`_`, `$`, ``) is returned unchanged. */
export function changeKeyCase(key: string, mode: KeyCaseMode): string {
  const words = splitKeyWords(key);
  if (words.length === 0) return key;
  switch (mode) {
    case 'snake':
      return words.map((w) => w.toLowerCase()).join('_');
    case 'kebab':
      return words.map((w) => w.toLowerCase()).join('-');
    case 'screaming_snake':
      return words.map((w) => w.toUpperCase()).join('_');
    case 'camel':
      return words.map((w, i) => (i === 0 ? w.toLowerCase() : capitalize(w))).join('');
    case 'pascal':
      return words.map(capitalize).join('');
  }
}

export const keysCaseConfigSchema = z.strictObject({
  mode: z.enum(KEY_CASE_MODES),
  recursive: z.boolean().default(true),
});
export type KeysCaseConfig = z.infer<typeof keysCaseConfigSchema>;

export const keysCaseTransform = defineTransform<KeysCaseConfig>({
  id: 'keys_case',
  description: 'Re-case every key (snake, camel, pascal, kebab or screaming_snake), nested keys too',
  configSchema: keysCaseConfigSchema,
  create(config) {
    const convert = cachedKeyConversion((key) => changeKeyCase(key, config.mode));
    return keyRewriter('keys_case', convert, config.recursive);
  },
});

export const snakeCaseConfigSchema = z.strictObject({});
export type SnakeCaseConfig = z.infer<typeof snakeCaseConfigSchema>;

export const snakeCaseTransform = defineTransform<SnakeCaseConfig>({
  id: 'snake_case',
  description: 'Turn every key into snake_case, nested keys too (keys_case with mode snake)',
  configSchema: snakeCaseConfigSchema,
  create() {
    const convert = cachedKeyConversion((key) => changeKeyCase(key, 'snake'));
    return keyRewriter('snake_case', convert, true);
  },
});
