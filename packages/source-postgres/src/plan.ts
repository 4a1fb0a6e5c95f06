/**
 * What a read is over and in what order, derived once from the config: the FROM item, the keyset
 * (cursor field then primary keys, or the primary keys alone for FullTable) and how often to checkpoint.
 */
import type { Keyset } from './bookmark.js';
import type { PostgresSourceConfig } from './config.js';
import { fromItem } from './query.js';

export type IncrementalMethod = Extract<PostgresSourceConfig['replication_method'], { type: 'Incremental' }>;

export interface ReadPlan {
  /** The FROM item: the quoted table, or the query as a subquery. */
  from: string;
  /** How messages name what is read: `table "x"` or `the query`. */
  what: string;
  keyset: Keyset;
  incremental: IncrementalMethod | undefined;
  /** Whether a page may end inside a run of equal cursor values (no primary keys to break ties). */
  tiesPossible: boolean;
  /** Rows between checkpoints. */
  every: number;
}

export function planRead(config: PostgresSourceConfig): ReadPlan {
  const method = config.replication_method;
  const incremental = method.type === 'Incremental' ? method : undefined;
  const table = config.table;
  return {
    from: table === undefined ? fromItem({ query: config.query ?? '' }) : fromItem({ table }),
    what: table === undefined ? 'the query' : `table ${JSON.stringify(table)}`,
    keyset: {
      kind: incremental ? 'keyset' : 'full_table',
      columns: incremental
        ? [incremental.cursor_field, ...config.primary_keys.filter((k) => k !== incremental.cursor_field)]
        : [...config.primary_keys],
      ...(table === undefined ? {} : { table }),
    },
    incremental,
    // Without primary keys an incremental keyset is the cursor alone: a page boundary inside a run of
    // equal cursor values cannot be a checkpoint (resuming with `>` would skip the rest of the run).
    tiesPossible: incremental !== undefined && config.primary_keys.length === 0,
    every: config.checkpoint_interval ?? 1,
  };
}
