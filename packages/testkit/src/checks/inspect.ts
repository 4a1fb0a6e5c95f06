/** Where a secret could hide: every text an error exposes, down its cause chain. */
import { isFaucetError } from '@faucet/core';

export interface ExposedText {
  where: string;
  text: string;
}

export function errorTexts(error: unknown, label = 'the error'): ExposedText[] {
  const out: ExposedText[] = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  let where = label;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    if (current instanceof Error) {
      out.push({ where: `${where}'s message`, text: current.message });
      if (current.stack) out.push({ where: `${where}'s stack`, text: current.stack });
      if (isFaucetError(current)) out.push({ where: `${where} as JSON`, text: JSON.stringify(current) });
      out.push({ where: `${where} as text`, text: String(current) });
      current = current.cause;
    } else {
      out.push({ where, text: typeof current === 'string' ? current : safeJson(current) });
      break;
    }
    where = `${where}'s cause`;
  }
  return out;
}

export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The places among `texts` that contain `secret` (as is, or URL-encoded). */
export function leaks(texts: readonly ExposedText[], secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret)]);
  return texts.filter((t) => [...forms].some((form) => t.text.includes(form))).map((t) => t.where);
}

/** Show a text with the secret masked, for a failure message that must not repeat it. */
export function masked(text: string, secret: string, max = 300): string {
  const out = text.split(secret).join('<SECRET>');
  return out.length > max ? `${out.slice(0, max)}…` : out;
}
