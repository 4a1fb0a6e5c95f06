// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are about ${…} interpolation syntax
/**
 * Loading a pipeline file: parse (keeping line numbers), interpolate, check the structure, expand
 * the matrix, find every connector and check each config against the connector's own schema. Every
 * problem is collected first and reported at once, each as `file:line:col path: message`, with
 * secrets scrubbed.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, extname, isAbsolute, relative } from 'node:path';
import { configJsonSchema, type Redactor, stateKeyProblem, type Transform } from '@faucet/core';
import {
  type ConnectorKind,
  createDiscovery,
  type Discovery,
  type PipelineHost,
} from '../discovery/index.js';
import { type LocatedIssue, PipelineFileError, UsageError } from '../errors.js';
import { rowStateKey } from '../state-keys.js';
import {
  buildTransforms,
  checkBlocksDespiteStructure,
  checkConnectorConfig,
  checkSinkUses,
  type LoadedConnector,
} from './check.js';
import { dotEnvLookup } from './env.js';
import { executionSettings, expandPipeline } from './expand.js';
import { findConfigFile } from './find.js';
import { interpolate, type Substitution } from './interpolate.js';
import { type SchemaIssue, schemaIssues } from './issues.js';
import { placeIssues } from './place.js';
import type { ConnectorSpec, ExecutionSettings, RowPlan } from './plan.js';
import { NAME_PATTERN, type PipelineFile, pipelineFileSchema } from './schema.js';
import { connectorRedactor, interpolatedRedactor } from './secrets.js';
import { structuralKeysAt } from './structural-keys.js';
import { findTemplates, isParentTemplate, mapTemplates } from './template.js';
import { parseYaml, type YamlSyntaxProblem } from './yaml.js';
import { unclosedOpenerBefore, unquotedInterpolations } from './yaml-hints.js';

export type { LoadedConnector } from './check.js';

export interface LoadedRow extends RowPlan {
  connectors: {
    source: LoadedConnector;
    sink: LoadedConnector;
    state?: LoadedConnector;
    dlq?: LoadedConnector;
  };
  /** The row's transforms, built once (they are pure functions). */
  transformFns: Transform[];
  /** `{name}::{row}`; a child's keys add `::{parentKeyValue}`. */
  stateKey: string;
}

export interface LoadedPipeline {
  /** Absolute path of the pipeline file. */
  file: string;
  /** The path as shown in messages (relative to the working directory when inside it). */
  displayFile: string;
  dir: string;
  name: string;
  rows: LoadedRow[];
  rowsById: Map<string, LoadedRow>;
  order: string[];
  execution: ExecutionSettings;
  /** Scrubs every secret the file's connectors hold. */
  redactor: Redactor;
  discovery: Discovery;
  substitutions: readonly Substitution[];
  /** Put problems found later (by `run`'s checks) at their line in the file, secrets scrubbed. */
  placeIssues(issues: LocatedIssue[]): LocatedIssue[];
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Defaults to FAUCET_PLUGIN_PATH from `env`. */
  pluginPath?: string;
  cpus?: number;
  discovery?: Discovery;
  /** The program running the file: its dependencies are the last place connectors are looked for. */
  host?: PipelineHost;
}

function displayPath(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

const MAX_SYNTAX_ERRORS = 5;

const ALLOWED_TEMPLATE = /^(?:pipeline|matrix\[\d+\])\.(?:source|sink)\.config(?:[.[]|$)/;

/** `${parent.…}` only belongs in source/sink configs; elsewhere it is a problem (and becomes plain text). */
function checkTemplatePlacement(value: unknown, issues: LocatedIssue[]): unknown {
  for (const { path } of findTemplates(value)) {
    if (!ALLOWED_TEMPLATE.test(path)) {
      issues.push({
        path,
        message: '${parent.…} can only be used in the source or sink config of a row that has a parent',
      });
    }
  }
  const visit = (node: unknown, path: string): unknown => {
    if (isParentTemplate(node)) return ALLOWED_TEMPLATE.test(path) ? node : node.text;
    if (Array.isArray(node)) return node.map((item, i) => visit(item, `${path}[${i}]`));
    if (typeof node === 'object' && node !== null) {
      const out: { [key: string]: unknown } = {};
      for (const [key, child] of Object.entries(node)) out[key] = visit(child, path ? `${path}.${key}` : key);
      return out;
    }
    return node;
  };
  return visit(value, '');
}

/** What to say about a file YAML cannot parse: the cause when we can tell it, else the first few errors. */
function syntaxIssues(text: string, problems: readonly YamlSyntaxProblem[]): LocatedIssue[] {
  const unquoted = unquotedInterpolations(text);
  if (unquoted.length > 0) {
    // Unquoted ${…} in a flow mapping: its braces are read as YAML and cause a flood of errors.
    return unquoted.map((u) => ({
      path: '',
      line: u.line,
      column: u.column,
      message:
        `${u.text} inside { … } must be quoted, or YAML reads its braces as a mapping: write "${u.text}" ` +
        `(the ${problems.length} YAML syntax error${problems.length === 1 ? '' : 's'} this causes are not listed)`,
    }));
  }
  // One syntax error often causes many more: the first few say where to look.
  const shown: LocatedIssue[] = problems.slice(0, MAX_SYNTAX_ERRORS).map((p) => ({
    path: '',
    message: `YAML syntax error: ${p.message}`,
    line: p.line,
    column: p.column,
  }));
  const first = problems[0];
  const opener = first ? unclosedOpenerBefore(text, first.offset) : undefined;
  if (opener) {
    const closer = opener.char === '{' ? '}' : ']';
    shown.unshift({
      path: '',
      line: opener.line,
      column: opener.column,
      message: `YAML syntax error: this ${opener.char} is never closed: add the missing ${closer} (YAML noticed on line ${first?.line})`,
    });
  }
  if (problems.length > MAX_SYNTAX_ERRORS) {
    shown.push({
      path: '',
      message: `… and ${problems.length - MAX_SYNTAX_ERRORS} more syntax errors after these`,
    });
  }
  return shown;
}

/** Read, check and expand a pipeline file. Throws PipelineFileError listing every problem. */
export async function loadPipeline(
  given: string | undefined,
  options: LoadOptions = {},
): Promise<LoadedPipeline> {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const file = findConfigFile(given, cwd);
  const displayFile = displayPath(file, cwd);
  const dir = dirname(file);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read pipeline file ${displayFile}: ${(error as Error).message}`, {
      cause: error,
    });
  }

  const { problems, parsed } = parseYaml(text);
  if (!parsed) throw new PipelineFileError(displayFile, syntaxIssues(text, problems));
  if (typeof parsed.value !== 'object' || parsed.value === null || Array.isArray(parsed.value)) {
    throw new PipelineFileError(displayFile, [
      {
        path: '',
        line: 1,
        message:
          parsed.value === null || parsed.value === undefined
            ? 'the file is empty; a pipeline file needs at least pipeline.source and pipeline.sink'
            : 'a pipeline file is a mapping (version, name, pipeline, matrix, execution)',
      },
    ]);
  }

  const issues: LocatedIssue[] = [];
  const lookup = dotEnvLookup(dir, env);
  for (const problem of lookup.issues) {
    issues.push({
      ...problem,
      message: `${lookup.file ?? '.env'}:${problem.line ?? '?'}: ${problem.message}`,
    });
  }
  const interpolated = interpolate(parsed.value, {
    env: lookup.get,
    baseDir: dir,
    plain: (path) => parsed.plainScalars.has(path),
    ...(lookup.file ? { dotEnvFile: lookup.file } : {}),
  });
  issues.push(...interpolated.issues);
  const { substitutions } = interpolated;
  const redactor = interpolatedRedactor(substitutions);
  const value = checkTemplatePlacement(interpolated.value, issues);

  const discovery =
    options.discovery ??
    createDiscovery({
      configDir: dir,
      cwd,
      pluginPath: options.pluginPath ?? env.FAUCET_PLUGIN_PATH ?? '',
      ...(options.host ? { host: options.host } : {}),
    });
  const load = async (kind: ConnectorKind, spec: ConnectorSpec): Promise<LoadedConnector | undefined> => {
    let found: Awaited<ReturnType<Discovery['load']>>;
    try {
      found = await discovery.load(kind, spec.type);
    } catch (error) {
      issues.push({ path: `${spec.at}.type`, message: (error as Error).message });
      return undefined;
    }
    const schema = configJsonSchema(found.descriptor);
    const checked = await checkConnectorConfig({ kind, spec, ...found, schema }, issues);
    redactor.merge(
      connectorRedactor(
        spec,
        mapTemplates(spec.config, (t) => t.text),
        schema,
        substitutions,
      ),
    );
    return checked;
  };

  const structure = pipelineFileSchema.safeParse(value);
  if (!structure.success) {
    const structural = schemaIssues(structure.error.issues as readonly SchemaIssue[], '', structuralKeysAt);
    issues.push(...structural);
    await checkBlocksDespiteStructure(value, structural, load, issues);
    throw new PipelineFileError(displayFile, placeIssues(issues, parsed, redactor));
  }
  const config: PipelineFile = structure.data;

  const stem = basename(file, extname(file));
  const name = config.name ?? stem;
  if (config.name === undefined && !NAME_PATTERN.test(stem)) {
    issues.push({
      path: '',
      line: 1,
      message: `the file name "${stem}" cannot be used as the pipeline name (it becomes part of state keys); set name:`,
    });
  }
  const expanded = expandPipeline(config);
  issues.push(...expanded.issues);

  const rows: LoadedRow[] = [];
  for (const row of expanded.rows) {
    const [source, sink, state, dlq, transformFns] = await Promise.all([
      load('source', row.source),
      load('sink', row.sink),
      row.state ? load('state', row.state) : undefined,
      row.dlq ? load('sink', row.dlq.sink) : undefined,
      buildTransforms(row, issues),
    ]);
    const stateKey = rowStateKey(name, row.id);
    if (row.parent === undefined) {
      const problem = stateKeyProblem(stateKey);
      if (problem) issues.push({ path: row.at === 'pipeline' ? 'name' : `${row.at}.id`, message: problem });
    }
    if (!source || !sink || (row.state && !state) || (row.dlq && !dlq)) continue;
    await checkSinkUses({ sink, dlq, state }, issues);
    const connectors: LoadedRow['connectors'] = { source, sink };
    if (state) connectors.state = state;
    if (dlq) connectors.dlq = dlq;
    rows.push({ ...row, connectors, transformFns, stateKey });
  }

  if (issues.length > 0) throw new PipelineFileError(displayFile, placeIssues(issues, parsed, redactor));

  return {
    file,
    displayFile,
    dir,
    name,
    rows,
    rowsById: new Map(rows.map((r) => [r.id, r])),
    order: expanded.order,
    execution: executionSettings(config, options.cpus ?? availableParallelism()),
    redactor,
    discovery,
    substitutions,
    placeIssues: (later) => placeIssues(later, parsed, redactor),
  };
}
