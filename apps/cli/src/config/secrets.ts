/**
 * Which values are secret. A connector's schema marks fields secret (`x-faucet-secret`); any value
 * that reached such a field through `${env:}` or `${file:}` is scrubbed from all output even when it
 * is only part of the field (`token: "Bearer ${env:TOKEN}"`), and so is every URL password.
 */
import { type JsonObject, Redactor, secretPaths } from '@faucet/core';
import type { Substitution } from './interpolate.js';
import type { ConnectorSpec } from './plan.js';
import { parsePath } from './yaml.js';

/** Before schemas are known: substitutions into keys whose name says they hold a secret. */
const SECRET_LOOKING = /pass|secret|token|credential|private|auth|api_?key|access_?key|dsn|connection/i;

export function preliminaryRedactor(substitutions: readonly Substitution[]): Redactor {
  const redactor = new Redactor();
  for (const s of substitutions) {
    const last = parsePath(s.path)
      .filter((seg) => typeof seg === 'string')
      .pop();
    if (typeof last === 'string' && SECRET_LOOKING.test(last) && s.value.length <= 64 * 1024)
      redactor.add(s.value);
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
