/**
 * The replication stream: pgoutput over `pg-logical-replication`, turned into pages. One page per
 * committed transaction (a large one spans several pages, the bookmark only on its last), at most
 * `capacity` records staged: the handler awaits room, and the library pauses the socket meanwhile.
 *
 * The slot is confirmed only with `confirm(lsn)`, which the source calls for bookmarks the engine
 * has durably stored, never from received or keepalive WAL. The library's own acknowledgement adds
 * one to the LSN it is given; an LSN one past a commit's end can skip the next transaction when
 * its commit record starts exactly there (two transactions committing back to back), so the
 * position sent is always exactly the stored commit end.
 */
import type { ValueParser } from '@faucet/common-postgres';
import type { FaucetRecord, Logger } from '@faucet/core';
import type pg from 'pg';
import { LogicalReplicationService, type Pgoutput, PgoutputPlugin } from 'pg-logical-replication';
import { PageChannel } from './channel.js';
import { formatLsn, parseLsn } from './lsn.js';
import { changeRecord, commitTimestamp, keyOf, plain } from './records.js';

export const HEARTBEAT_PREFIX = 'faucet.heartbeat';
/** Prefix of the marker written when the run would stop for idleness (see `ReplicationStream.syncedTo`). */
export const SYNC_PREFIX = 'faucet.sync';

/** pgoutput with our type mapping on every column, and an optional hook before START_REPLICATION. */
class FaucetPgoutputPlugin extends PgoutputPlugin {
  constructor(
    options: ConstructorParameters<typeof PgoutputPlugin>[0],
    private readonly parserFor: (oid: number) => ValueParser,
    private readonly beforeStart: ((client: pg.Client) => Promise<string | undefined>) | undefined,
  ) {
    super(options);
  }

  override parse(buffer: Buffer): Pgoutput.Message {
    const message = super.parse(buffer) as Pgoutput.Message;
    if (message.tag === 'relation') {
      for (const column of message.columns) column.parser = this.parserFor(column.typeOid);
    }
    return message;
  }

  override async start(client: pg.Client, slotName: string, lastLsn: string): Promise<unknown> {
    const created = await this.beforeStart?.(client);
    return super.start(client, slotName, created ?? lastLsn);
  }
}

export interface StreamOptions {
  connectionUrl: string;
  applicationName: string;
  connectTimeoutMs: number;
  slot: string;
  publication: string;
  protoVersion: 1 | 2;
  /** Where streaming starts. */
  startLsn: bigint;
  /** The position reported until something newer is confirmed (durably stored, or the slot's own). */
  confirmedLsn: bigint;
  /** Create a temporary slot on the streaming connection first. */
  temporarySlot: boolean;
  parserFor: (oid: number) => ValueParser;
  pageSize: number;
  capacity: number;
  logger: Logger;
}

interface OpenTransaction {
  commitTs: string | null;
  records: FaucetRecord[];
  changes: number;
}

export class ReplicationStream {
  readonly channel: PageChannel;
  /** performance.now() of the last change received (heartbeat-only transactions do not count). */
  lastChangeAt = performance.now();
  /** performance.now() of the last transaction received, heartbeats included. */
  lastCommitAt = performance.now();
  /** Changes received so far. */
  changes = 0;
  /** The sync marker this stream waits for (see `awaitSync`), and whether it has come through. */
  private syncToken: string | undefined;
  private syncSeen = false;
  private confirmed: bigint;
  private readonly service: LogicalReplicationService;
  private readonly plugin: FaucetPgoutputPlugin;
  private readonly relations = new Map<number, string>();
  private txn: OpenTransaction | undefined;
  private lastEmptyAt = 0;
  private stopped = false;
  private running: Promise<unknown> | undefined;

  constructor(private readonly options: StreamOptions) {
    this.channel = new PageChannel(Math.max(options.capacity, options.pageSize), options.pageSize);
    this.confirmed = options.confirmedLsn;
    this.service = new LogicalReplicationService(
      {
        connectionString: options.connectionUrl,
        application_name: options.applicationName,
        connectionTimeoutMillis: options.connectTimeoutMs,
        // Text output of the walsender follows these, so values parse as in the snapshot.
        options:
          '-c TimeZone=UTC -c DateStyle=ISO,YMD -c IntervalStyle=iso_8601 -c bytea_output=hex -c extra_float_digits=3',
      },
      // Never acknowledge on the library's own terms: only confirm() moves the slot.
      { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: true } },
    );
    this.plugin = new FaucetPgoutputPlugin(
      { protoVersion: options.protoVersion, publicationNames: [options.publication], messages: true },
      options.parserFor,
      options.temporarySlot ? (client) => this.createTemporarySlot(client) : undefined,
    );
    this.service.on('data', (lsn: string, message: Pgoutput.Message) => this.onMessage(lsn, message));
    this.service.on('heartbeat', (_lsn: string, _time: number, shouldRespond: boolean) => {
      if (shouldRespond) this.sendStatus();
    });
    this.service.on('error', (error: Error) => this.channel.fail(error));
  }

  /** Subscribe and wait until the server streams (or refuses). */
  async start(): Promise<void> {
    let failStart: (error: unknown) => void = () => {};
    const started = new Promise<void>((resolve, reject) => {
      failStart = reject;
      this.service.once('start', () => resolve());
      this.service.once('error', (error: Error) => reject(error));
    });
    // A refused START_REPLICATION (e.g. the slot is in use) rejects subscribe() without an 'error'
    // event: that must end the wait for 'start' too.
    this.running = this.service
      .subscribe(this.plugin, this.options.slot, formatLsn(this.options.startLsn))
      .then(
        () => {
          failStart(new Error('the server ended the replication stream before it started'));
          if (!this.stopped) this.channel.fail(new Error('the server ended the replication stream'));
        },
        (error: unknown) => {
          failStart(error);
          if (!this.stopped) this.channel.fail(error);
        },
      );
    await started;
    this.sendStatus();
  }

  /** A bookmark at `lsn` is durably stored: report it, so the server may recycle WAL before it. */
  confirm(lsn: bigint): void {
    if (lsn <= this.confirmed) return;
    this.confirmed = lsn;
    this.sendStatus();
  }

  /** Send a standby status update with the confirmed position (also answers keepalives). */
  sendStatus(): void {
    if (this.stopped || this.confirmed <= 0n) return;
    // acknowledge() reports the LSN it is given plus one; give it one less than the exact position.
    void this.service.acknowledge(formatLsn(this.confirmed - 1n)).catch((error: unknown) => {
      this.options.logger.warn('postgres-cdc: could not send the slot position', { error: String(error) });
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.sendStatus();
    this.stopped = true;
    this.channel.close();
    try {
      await this.service.stop();
    } catch {
      // the connection is gone already
    }
    await this.running?.catch(() => {});
    this.service.removeAllListeners();
    // The library may still report a late failure of the ended connection: never unheard.
    this.service.on('error', () => {});
  }

  private async createTemporarySlot(client: pg.Client): Promise<string | undefined> {
    const result = await client.query<{ consistent_point: string }>(
      `CREATE_REPLICATION_SLOT "${this.options.slot}" TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`,
    );
    const point = result.rows[0]?.consistent_point;
    this.options.logger.info('postgres-cdc: created a temporary slot', {
      slot: this.options.slot,
      consistent_point: point ?? null,
    });
    return point;
  }

  /** `lsn`: the XLogData position of the message, already in pg_lsn's form (the library formats it so). */
  private async onMessage(lsn: string, message: Pgoutput.Message): Promise<void> {
    switch (message.tag) {
      case 'begin':
        this.txn = { commitTs: commitTimestamp(message.commitTime as bigint), records: [], changes: 0 };
        return;
      case 'relation': {
        const shape = message.columns.map((c) => `${c.name}:${c.typeOid}`).join(',');
        const before = this.relations.get(message.relationOid);
        if (before !== undefined && before !== shape) {
          this.options.logger.info(
            'postgres-cdc: a table changed shape; later records follow the new columns',
            {
              table: `${message.schema}.${message.name}`,
              columns: message.columns.map((c) => c.name),
            },
          );
        }
        this.relations.set(message.relationOid, shape);
        return;
      }
      case 'insert':
        return this.add(
          changeRecord({
            op: 'insert',
            schema: message.relation.schema,
            table: message.relation.name,
            lsn,
            commitTs: this.txn?.commitTs ?? null,
            key: keyOf(message.relation, message.new),
            before: null,
            after: plain(message.new),
          }),
        );
      case 'update':
        return this.add(
          changeRecord({
            op: 'update',
            schema: message.relation.schema,
            table: message.relation.name,
            lsn,
            commitTs: this.txn?.commitTs ?? null,
            key: keyOf(message.relation, message.key, message.old, message.new),
            before: plain(message.old),
            after: plain(message.new),
          }),
        );
      case 'delete':
        return this.add(
          changeRecord({
            op: 'delete',
            schema: message.relation.schema,
            table: message.relation.name,
            lsn,
            commitTs: this.txn?.commitTs ?? null,
            key: keyOf(message.relation, message.key, message.old),
            before: plain(message.old),
            after: null,
          }),
        );
      case 'truncate':
        for (const relation of message.relations) {
          await this.add(
            changeRecord({
              op: 'truncate',
              schema: relation.schema,
              table: relation.name,
              lsn,
              commitTs: this.txn?.commitTs ?? null,
              key: null,
              before: null,
              after: null,
            }),
          );
        }
        return;
      case 'commit':
        return this.commit(message);
      case 'message':
        // Markers of other readers of the database come through too: only ours counts.
        if (message.prefix === SYNC_PREFIX && this.syncToken !== undefined && !this.syncSeen) {
          this.syncSeen = Buffer.from(message.content).toString('utf8') === this.syncToken;
        }
        // Logical messages (heartbeats, sync markers, the application's own) carry no rows.
        return;
      default:
        // type and origin messages carry no rows.
        return;
    }
  }

  private async add(record: FaucetRecord): Promise<void> {
    this.changes++;
    this.lastChangeAt = performance.now();
    this.txn ??= { commitTs: null, records: [], changes: 0 };
    const txn = this.txn;
    txn.changes++;
    txn.records.push(record);
    if (txn.records.length >= this.options.pageSize) {
      const records = txn.records;
      txn.records = [];
      // A page inside a transaction: no bookmark, the transaction is not complete yet.
      await this.channel.push({ records });
    }
  }

  private async commit(message: Pgoutput.MessageCommit): Promise<void> {
    const txn = this.txn;
    this.txn = undefined;
    this.lastCommitAt = performance.now();
    const end = message.commitEndLsn;
    if (end === null) return;
    const bookmark = { kind: 'lsn', slot: this.options.slot, lsn: normalise(end) };
    if (txn && txn.changes > 0) {
      await this.channel.push({ records: txn.records, bookmark });
      return;
    }
    // A transaction without rows (a heartbeat): a bookmark alone, at most one a second.
    const now = performance.now();
    if (now - this.lastEmptyAt < 1000) return;
    this.lastEmptyAt = now;
    await this.channel.push({ records: [], bookmark });
  }

  /**
   * Wait for the sync marker with this token (`pg_logical_emit_message(false, 'faucet.sync', token)`,
   * written by the source): once it has come through, every change committed before it was written
   * has been handled. Call before writing the marker.
   */
  expectSync(token: string): void {
    this.syncToken = token;
    this.syncSeen = false;
  }

  /** True once the expected sync marker has come through. */
  get synced(): boolean {
    return this.syncSeen;
  }

  /** Report the server's shape of the stream for logs. */
  describe(): { confirmed: string; staged: number } {
    return { confirmed: formatLsn(this.confirmed), staged: this.channel.size };
  }
}

/** The parser zero-pads (`00000000/016B3748`); bookmarks use pg_lsn's form (`0/16B3748`). */
function normalise(lsn: string): string {
  return formatLsn(parseLsn(lsn));
}
