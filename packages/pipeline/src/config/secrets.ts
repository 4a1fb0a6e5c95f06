/**
 * Which values are secret. Every value that came from `${env:}`, `${file:}` or a `.env` file (6
 * characters or longer) is scrubbed from all output, whatever field it landed in, so no connector has
 * to remember to mark a field (a key passed in a REST header, echoed back by a 401 body, is caught).
 * A connector's schema marks fields secret (`x-faucet-secret`) too: those are scrubbed whatever their
 * length, even when the value is only part of the field (`token: "Bearer ${env:TOKEN}"`), and so is
 * every URL password. Identifiers a user must see (the pipeline name, row ids) are not scrubbed.
 */
import { type JsonObject, Redactor, secretPaths } from '@faucet/core';
import type { Substitution } from './interpolate.js';
import type { ConnectorSpec } from './plan.js';
import { parsePath } from './yaml.js';

/** Interpolated values shorter than this are not scrubbed unless a schema marks their field secret. */
export const MIN_INTERPOLATED_SECRET = 6;
/** Larger values (a whole file of data) are not secrets to search for in every message. */
const MAX_SECRET = 64 * 1024;
/** Paths of identifiers that appear in state keys, summaries and messages by design. */
const IDENTIFIER_PATH = /^(?:name|version|matrix\[\d+\]\.(?:id|parent|parent_key|depends_on(?:\[\d+\])?))$/;

/** Every interpolated value long enough to be a secret, wherever it landed (identifiers aside). */
export function interpolatedRedactor(substitutions: readonly Substitution[]): Redactor {
  const redactor = new Redactor();
  for (const s of substitutions) {
    if (IDENTIFIER_PATH.test(s.path)) continue;
    if (s.value.length >= MIN_INTERPOLATED_SECRET && s.value.length <= MAX_SECRET) redactor.add(s.value);
  }
  return redactor;
}

function matches(secret: readonly string[], field: readonly (string | number)[]): boolean {
  if (secret.length > field.length) return false;
  return secret.every((part, i) => part === '*' || String(field[i]) === part);
}

/** The raw-file prefixes a block's config may have come from: the row's own, then the pipeline's. */
function configPrefixes(spec: ConnectorSpec): string[] {
  const own = `${spec.at}.config`;
  const inherited = own.replace(/^matrix\[\d+\]/, 'pipeline');
  return inherited === own ? [own] : [own, inherited];
}

/** Redactor for one connector config: schema-marked secrets, URL passwords, and interpolated secrets. */
export function connectorRedactor(
  spec: ConnectorSpec,
  config: unknown,
  schema: JsonObject,
  substitutions: readonly Substitution[],
): Redactor {
  const redactor = Redactor.forConfig(config, schema);
  const secrets = secretPaths(schema).map((p) => (p === '' ? [] : p.split('.')));
  if (secrets.length === 0) return redactor;
  const prefixes = configPrefixes(spec);
  for (const s of substitutions) {
    const prefix = prefixes.find(
      (p) => s.path === p || s.path.startsWith(`${p}.`) || s.path.startsWith(`${p}[`),
    );
    if (prefix === undefined) continue;
    const field = parsePath(s.path.slice(prefix.length));
    if (secrets.some((secret) => matches(secret, field))) redactor.add(s.value);
  }
  return redactor;
}
