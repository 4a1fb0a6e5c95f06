/** Which pipeline file a command uses: the one named, else faucet.yaml or faucet.yml in the working directory. */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export const DEFAULT_CONFIG_NAMES = ['faucet.yaml', 'faucet.yml'];

export function findConfigFile(given: string | undefined, cwd: string = process.cwd()): string {
  if (given !== undefined) {
    const file = resolve(cwd, given);
    if (!existsSync(file)) throw new UsageError(`pipeline file ${given} does not exist`);
    if (statSync(file).isDirectory()) {
      const inside = DEFAULT_CONFIG_NAMES.map((name) => join(file, name)).find((f) => existsSync(f));
      if (inside) return inside;
      throw new UsageError(`${given} is a directory without ${DEFAULT_CONFIG_NAMES.join(' or ')}`);
    }
    return file;
  }
  const found = DEFAULT_CONFIG_NAMES.map((name) => join(cwd, name)).find((f) => existsSync(f));
  if (!found) {
    throw new UsageError(
      `no pipeline file given and no ${DEFAULT_CONFIG_NAMES.join(' or ')} in ${cwd}; ` +
        'pass one (faucet run path/to/pipeline.yaml) or create one with faucet init',
    );
  }
  return found;
}
