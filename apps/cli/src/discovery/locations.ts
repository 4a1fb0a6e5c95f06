/**
 * Where connector packages are looked for, in order (ARCHITECTURE §8): the pipeline file's
 * directory, the working directory, each entry of FAUCET_PLUGIN_PATH, then the CLI's own
 * dependencies. The first two and the last walk up to the file-system root like Node does.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SearchLocation {
  /** `config directory`, `working directory`, `FAUCET_PLUGIN_PATH`, `faucet CLI`. */
  label: string;
  /** The directory the search starts from (for messages). */
  from: string;
  /** Existing `node_modules` directories, searched in this order. */
  nodeModules: string[];
}

export interface LocationOptions {
  /** Directory of the pipeline file, when there is one. */
  configDir?: string;
  cwd?: string;
  /** FAUCET_PLUGIN_PATH's value (path-delimited). */
  pluginPath?: string;
  /** The CLI package directory; defaults to this package. */
  cliDir?: string;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** `<dir>/node_modules`, `<parent>/node_modules`, … that exist. */
export function nodeModulesUpFrom(dir: string): string[] {
  const out: string[] = [];
  let current = resolve(dir);
  for (;;) {
    if (basename(current) !== 'node_modules') {
      const candidate = join(current, 'node_modules');
      if (isDirectory(candidate)) out.push(candidate);
    }
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  return out;
}

let cachedCliDir: string | undefined;

/** The directory of the @faucet/cli package this code runs from. */
export function cliPackageDir(): string {
  if (cachedCliDir) return cachedCliDir;
  let current = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(current, 'package.json');
    if (existsSync(manifest)) {
      try {
        const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
        if (json.name === '@faucet/cli') {
          cachedCliDir = current;
          return current;
        }
      } catch {
        // not a package we know: keep walking up
      }
    }
    const parent = dirname(current);
    if (parent === current) break;
    current = parent;
  }
  cachedCliDir = dirname(dirname(fileURLToPath(import.meta.url)));
  return cachedCliDir;
}

/** The search locations, in order; a node_modules directory seen earlier is not searched again. */
export function searchLocations(options: LocationOptions = {}): SearchLocation[] {
  const seen = new Set<string>();
  const fresh = (dirs: string[]): string[] =>
    dirs.filter((dir) => {
      const key = real(dir);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
  const out: SearchLocation[] = [];
  if (options.configDir) {
    out.push({
      label: 'config directory',
      from: options.configDir,
      nodeModules: fresh(nodeModulesUpFrom(options.configDir)),
    });
  }
  const cwd = options.cwd ?? process.cwd();
  out.push({ label: 'working directory', from: cwd, nodeModules: fresh(nodeModulesUpFrom(cwd)) });
  for (const entry of (options.pluginPath ?? '').split(delimiter)) {
    if (!entry.trim()) continue;
    const dir = resolve(cwd, entry.trim());
    const nodeModules = basename(dir) === 'node_modules' ? dir : join(dir, 'node_modules');
    out.push({
      label: 'FAUCET_PLUGIN_PATH',
      from: dir,
      nodeModules: fresh(isDirectory(nodeModules) ? [nodeModules] : []),
    });
  }
  const cliDir = options.cliDir ?? cliPackageDir();
  out.push({ label: 'faucet CLI', from: cliDir, nodeModules: fresh(nodeModulesUpFrom(cliDir)) });
  return out;
}
