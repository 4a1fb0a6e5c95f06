/** How `${env:NAME}` finds a value: the process environment first, then the `.env` beside the file. */
import type { LocatedIssue } from '../errors.js';
import { loadDotEnv } from './dotenv.js';

export interface EnvLookup {
  get: (name: string) => string | undefined;
  /** The `.env` file read, if any. */
  file?: string;
  issues: LocatedIssue[];
}

export function dotEnvLookup(dir: string, env: NodeJS.ProcessEnv): EnvLookup {
  const dotEnv = loadDotEnv(dir);
  const lookup: EnvLookup = {
    get: (name) => env[name] ?? dotEnv.values.get(name),
    issues: dotEnv.issues,
  };
  if (dotEnv.file) lookup.file = dotEnv.file;
  return lookup;
}
