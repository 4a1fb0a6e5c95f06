/**
 * The @faucet/cli package itself: its directory (connectors installed beside the CLI are found from
 * there) and its version. Kept free of @faucet/pipeline so `faucet --version` loads nothing else.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This module sits in src/ or dist/, one level below the package directory. */
const manifestUrl = new URL('../package.json', import.meta.url);

/** The directory of the @faucet/cli package this code runs from. */
export function cliPackageDir(): string {
  return dirname(fileURLToPath(manifestUrl));
}

/** The CLI's version from its package.json ('0.0.0' when unreadable). */
export function cliVersion(): string {
  try {
    const json = JSON.parse(readFileSync(manifestUrl, 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The CLI as the program running pipeline files: its own dependencies are searched for connectors last. */
export function cliHost(): { label: string; dir: string } {
  return { label: 'faucet CLI', dir: cliPackageDir() };
}
