/**
 * What is done before documents are written: the optional index (or index template) creation from
 * `create_index`, and `check()`: the node answers with these credentials, and the index is writable
 * (exists without a write block) or creatable (create_index, or the cluster's action.auto_create_index
 * allows its name).
 */
import type { Client } from '@elastic/elasticsearch';
import { type Logger, SinkError } from '@faucet/core';
import { CONNECTOR, errorTypeOf, statusOf } from './client.js';
import type { ElasticsearchSinkConfig } from './config.js';
import { type IndexName, indexPattern } from './index-name.js';

type CreateIndex = NonNullable<ElasticsearchSinkConfig['create_index']>;

/** Above the built-in templates (logs-*-*, metrics-*-* at 100), so a faucet template wins. */
const TEMPLATE_PRIORITY = 200;

export function templateName(name: IndexName, create: CreateIndex): string {
  if (create.template_name) return create.template_name;
  const slug = indexPattern(name)
    .replace(/\*/g, 'x')
    .replace(/[^a-z0-9._-]/g, '_');
  return `faucet-${slug}`;
}

/** Create the fixed index when missing, or put the index template of a templated one. */
export async function applyCreateIndex(
  client: Client,
  name: IndexName,
  create: CreateIndex,
  signal: AbortSignal,
): Promise<string> {
  const body = {
    ...(create.settings ? { settings: create.settings } : {}),
    ...(create.mappings ? { mappings: create.mappings } : {}),
  };
  if (name.fixed !== undefined) {
    if (await client.indices.exists({ index: name.fixed }, { signal })) return 'exists';
    try {
      await client.indices.create({ index: name.fixed, ...body }, { signal });
      return 'created';
    } catch (error) {
      if (errorTypeOf(error) === 'resource_already_exists_exception') return 'exists';
      throw error;
    }
  }
  await client.indices.putIndexTemplate(
    {
      name: templateName(name, create),
      index_patterns: [indexPattern(name)],
      priority: TEMPLATE_PRIORITY,
      template: body,
    },
    { signal },
  );
  return 'template';
}

/** Whether `action.auto_create_index` (true, false, or `+a*,-b*` patterns) lets `index` be created. */
export function autoCreateAllows(setting: unknown, index: string): boolean {
  if (setting === undefined || setting === null || setting === true || setting === 'true') return true;
  if (setting === false || setting === 'false') return false;
  const patterns = (Array.isArray(setting) ? setting.map(String) : String(setting).split(','))
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  for (const pattern of patterns) {
    const negate = pattern.startsWith('-');
    const glob = pattern.replace(/^[-+]/, '');
    const regex = new RegExp(`^${glob.split('*').map(escapeRegex).join('.*')}$`);
    if (regex.test(index)) return !negate;
  }
  return false;
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function autoCreateSetting(client: Client, logger: Logger): Promise<unknown> {
  try {
    const settings = (await client.cluster.getSettings({
      include_defaults: true,
      filter_path: '*.action.auto_create_index',
    })) as unknown as Record<string, { action?: { auto_create_index?: unknown } } | undefined>;
    // Transient wins over persistent, which wins over the node's own (shown as defaults).
    for (const scope of ['transient', 'persistent', 'defaults']) {
      const value = settings[scope]?.action?.auto_create_index;
      if (value !== undefined) return value;
    }
    return undefined;
  } catch (error) {
    if (statusOf(error) !== 403) throw error;
    logger.warn(
      'elasticsearch sink: no permission to read cluster settings; cannot tell whether the index would be created',
      {},
    );
    return undefined;
  }
}

const WRITE_BLOCKS = ['index.blocks.write', 'index.blocks.read_only', 'index.blocks.read_only_allow_delete'];

async function writeBlocks(client: Client, index: string): Promise<string[]> {
  const settings = (await client.indices.getSettings({ index, flat_settings: true })) as Record<
    string,
    { settings?: Record<string, unknown> }
  >;
  const blocked: string[] = [];
  for (const [name, entry] of Object.entries(settings)) {
    for (const block of WRITE_BLOCKS) {
      const value = entry.settings?.[block];
      if (value === true || value === 'true') blocked.push(`${name} (${block})`);
    }
  }
  return blocked;
}

export interface CheckContext {
  client: Client;
  config: ElasticsearchSinkConfig;
  name: IndexName;
  server: string;
  logger: Logger;
}

/** Throws a SinkError when documents could not be written; client errors are left to the caller to wrap. */
export async function checkTarget(ctx: CheckContext): Promise<void> {
  const { client, config, name, server } = ctx;
  const where = `elasticsearch sink (${server})`;
  const fail = (message: string) => new SinkError(`${where}: ${message}`, { connector: CONNECTOR });
  // Proves the node answers and accepts the credentials (GET / is not served by every distribution).
  // A 403 still proves the credentials: the user may write without the monitor privilege.
  await client.cluster.health({ timeout: '1s' }).catch((error: unknown) => {
    if (statusOf(error) !== 403) throw error;
  });
  if (config.pipeline !== undefined) {
    try {
      await client.ingest.getPipeline({ id: config.pipeline });
    } catch (error) {
      if (statusOf(error) === 404) throw fail(`ingest pipeline "${config.pipeline}" does not exist`);
      throw error;
    }
  }
  if (name.fixed === undefined) return;
  const index = name.fixed;
  if (await client.indices.exists({ index })) {
    const blocked = await writeBlocks(client, index);
    if (blocked.length > 0) throw fail(`index "${index}" does not accept writes: ${blocked.join(', ')}`);
    return;
  }
  if (config.create_index) return;
  if (!autoCreateAllows(await autoCreateSetting(client, ctx.logger), index)) {
    throw fail(
      `index "${index}" does not exist and the cluster does not create indices automatically ` +
        '(action.auto_create_index); create it, or give the sink a create_index setting',
    );
  }
}
