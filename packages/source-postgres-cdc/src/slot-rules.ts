/** When a slot cannot deliver what the stored bookmark needs: the reason, worded for the user. */
import type { CdcBookmark } from './bookmark.js';
import type { SlotInfo } from './catalog.js';
import { parseLsn } from './lsn.js';

export function slotProblem(
  slot: string,
  slotType: 'permanent' | 'temporary',
  info: SlotInfo | undefined,
  bookmark: CdcBookmark | undefined,
): string | undefined {
  const reset = `delete the stored position (faucet state delete postgres-cdc:${slot})`;
  if (info?.walStatus === 'lost') {
    return (
      `replication slot "${slot}" has lost WAL it needed (wal_status lost: the server removed it, e.g. ` +
      'max_slot_wal_keep_size was reached), so changes were missed. Drop the slot ' +
      `(SELECT pg_drop_replication_slot('${slot}')), ${reset} and run again to re-snapshot`
    );
  }
  if (info && info.plugin !== 'pgoutput') {
    return `replication slot "${slot}" uses plugin ${info.plugin ?? 'none'}, not pgoutput; use another slot_name`;
  }
  if (!bookmark) return undefined;
  if (!info && slotType === 'permanent') {
    return (
      `replication slot "${slot}" does not exist, but the stored bookmark is at ${bookmark.lsn}: the changes ` +
      `since then are gone. To re-snapshot with a new slot, ${reset} and run again`
    );
  }
  if (info?.confirmedFlushLsn && parseLsn(info.confirmedFlushLsn) > parseLsn(bookmark.lsn)) {
    return (
      `replication slot "${slot}" was confirmed up to ${info.confirmedFlushLsn}, past the stored bookmark ` +
      `${bookmark.lsn} (another reader used the slot, or the state was restored from an older copy): ` +
      `changes between them are gone for this pipeline. To re-snapshot, drop the slot and ${reset}; ` +
      'or give this pipeline a slot of its own'
    );
  }
  return undefined;
}
