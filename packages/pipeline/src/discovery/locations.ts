/**
 * Where connector packages are looked for, in order (ARCHITECTURE §8): the pipeline file's
 * directory, the working directory, each entry of FAUCET_PLUGIN_PATH, then the dependencies of the
 * program that runs the pipeline (the `faucet` CLI's own, or this package's). The first two and the
 * last walk up to the file-system root like Node does.
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SearchLocation {
  /** `config directory`, `working directory`, `FAUCET_PLUGIN_PATH`, then the host's label (`faucet CLI`). */
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
  /**
   * The program running the pipeline, searched last: the `faucet` CLI passes
   * `{label: 'faucet CLI', dir: <its package directory>}`. Defaults to this package
   * (`@faucet/pipeline`), whose `node_modules` walk reaches the application that installed it.
   */
  host?: PipelineHost;
}

/** A program that runs pipeline files, and whose own dependencies are searched for connectors. */
export interface PipelineHost {
  /** How the location is named in messages, e.g. `faucet CLI`. */
  label: string;
  /** Its package directory. */
  dir: string;
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

let cachedOwnDir: string | undefined;

/** The directory of the @faucet/pipeline package this code runs from. */
export function pipelinePackageDir(): string {
  if (cachedOwnDir) return cachedOwnDir;
  let current = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(current, 'package.json');
    if (existsSync(manifest)) {
      try {
        const json = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown };
        if (json.name === '@faucet/pipeline') {
          cachedOwnDir = current;
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
  cachedOwnDir = dirname(dirname(fileURLToPath(import.meta.url)));
  return cachedOwnDir;
}

/** This package as the host, for programs that do not name themselves. */
export function defaultHost(): PipelineHost {
  return { label: '@faucet/pipeline', dir: pipelinePackageDir() };
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
  const host = options.host ?? defaultHost();
  out.push({ label: host.label, from: host.dir, nodeModules: fresh(nodeModulesUpFrom(host.dir)) });
  return out;
}
