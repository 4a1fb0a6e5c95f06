/**
 * One read of the kafka source: a kafkajs group consumer whose batches land in a bounded queue that
 * the source's page loop drains. Turns kafkajs's push (eachBatch) into a pull, with backpressure:
 * while the queue is full the batch handler waits (heartbeating), so kafkajs fetches nothing more.
 *
 * Positions. Every partition has two: `fetchPos`, the next offset to fetch (after what is queued),
 * and `yieldPos`, the next offset the run has not been given yet (what the bookmark holds). Each
 * time the group assigns partitions, every assigned partition is sought to its `fetchPos` (known
 * from the bookmark, or resolved once from the group's committed offset, else auto_offset_reset),
 * so the group's committed offsets never decide where a run reads; they only show the lag.
 *
 * Rebalances. Partitions taken away are dropped from the queue (nothing of them is handed out after
 * the assignment that revoked them) and their `fetchPos` falls back to `yieldPos`; when one comes
 * back it resumes from there. Nothing is lost; another member may read some messages again.
 */
import { isCoordinatorMoving, retryKafka } from '@faucet/common-kafka';
import type { Logger } from '@faucet/core';
import type { Admin, Batch, Consumer, EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import { type PartitionOffset, partitionKey } from './bookmark.js';

export interface ReaderSettings {
  groupId: string;
  topics: string[] | RegExp;
  autoOffsetReset: 'earliest' | 'latest';
  readUncommitted: boolean;
  maxBuffered: number;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxBytesPerPartition: number;
  maxBytes: number;
  maxWaitMs: number;
}

export interface ReaderHooks {
  /** Messages handed over by kafkajs (a probe for tests). */
  onFetch?: (messages: number) => void;
  /** The partitions of each assignment, as `topic:partition`. */
  onAssignment?: (partitions: string[]) => void;
}

interface PartitionState {
  topic: string;
  partition: number;
  owned: boolean;
  fetchPos?: number | undefined;
  yieldPos?: number | undefined;
}

interface Entry {
  key: string;
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /** How many of `messages` were already taken. */
  taken: number;
  /** The next offset after this entry (past control records too). */
  next: number;
}

export interface TakenMessage {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

export type TakeResult = { messages: TakenMessage[]; moved: boolean } | 'timeout' | 'aborted';

/** Attempts at committing one checkpoint's offsets before waiting for the next checkpoint. */
const COMMIT_ATTEMPTS = 5;
/** Restarts of the consumer while the group coordinator is loading or moving, per read. */
const MAX_RESTARTS = 10;

export class KafkaReader {
  private readonly parts = new Map<string, PartitionState>();
  private readonly queue: Entry[] = [];
  private buffered = 0;
  private generation = 0;
  private ready: Promise<void> = new Promise(() => {});
  private failure: unknown;
  private stopped = false;
  private restarts = 0;
  private consumer: Consumer | undefined;
  private wakeData: (() => void) | undefined;
  private readonly roomWaiters = new Set<() => void>();
  /**
   * A partition started at `latest` without a bookmark: that position must be stored soon (an empty
   * checkpoint page), or a run ending without a message would start at a later `latest` next time
   * and skip what was produced in between.
   */
  private moved = false;
  lastArrivalAt = performance.now();
  /** When a fetch last came back with nothing: the reader had caught up then. */
  caughtUpAt = Number.NEGATIVE_INFINITY;
  private batchesSinceFetch = -1;
  private committing: Promise<void> | undefined;
  private pendingCommit: PartitionOffset[] | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly admin: Admin,
    private readonly settings: ReaderSettings,
    start: ReadonlyMap<string, PartitionOffset>,
    private readonly logger: Logger,
    private readonly hooks: ReaderHooks = {},
  ) {
    for (const [key, offset] of start) {
      this.parts.set(key, {
        topic: offset.topic,
        partition: offset.partition,
        owned: false,
        fetchPos: offset.offset,
        yieldPos: offset.offset,
      });
    }
  }

  /** Join the group and start fetching; resolves once kafkajs runs (the assignment may follow). */
  async start(): Promise<void> {
    const s = this.settings;
    const consumer = this.kafka.consumer({
      groupId: s.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      rebalanceTimeout: s.rebalanceTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      maxBytesPerPartition: s.maxBytesPerPartition,
      maxBytes: s.maxBytes,
      maxWaitTimeInMs: s.maxWaitMs,
      readUncommitted: s.readUncommitted,
      allowAutoTopicCreation: false,
      retry: { retries: 5, restartOnFailure: async (error) => this.restartAfter(error) },
    });
    this.consumer = consumer;
    const { GROUP_JOIN, CRASH, END_BATCH_PROCESS, START_BATCH_PROCESS, FETCH } = consumer.events;
    consumer.on(GROUP_JOIN, ({ payload }) => this.onAssignment(payload.memberAssignment));
    consumer.on(CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(payload.error);
    });
    consumer.on(START_BATCH_PROCESS, () => {
      this.batchesSinceFetch++;
    });
    consumer.on(FETCH, () => {
      // A fetch that brought no batch means every partition fetched was at its end.
      if (this.batchesSinceFetch === 0) this.caughtUpAt = performance.now();
      this.batchesSinceFetch = 0;
    });
    consumer.on(END_BATCH_PROCESS, ({ payload }) => {
      if (payload.batchSize === 0) this.onFilteredBatch(payload);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: Array.isArray(s.topics) ? s.topics : [s.topics] });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  /**
   * Whether kafkajs may restart the consumer after it crashed: only while the group's coordinator is
   * loading or moving, at most MAX_RESTARTS times a read. Any other crash fails the read (the engine
   * resumes from the last checkpoint on the next run). A restart joins the group again; the new
   * assignment seeks every partition to its own position, as after a rebalance.
   */
  private async restartAfter(error: unknown): Promise<boolean> {
    if (this.stopped || !isCoordinatorMoving(error) || this.restarts >= MAX_RESTARTS) return false;
    this.restarts++;
    this.logger.warn('kafka: the group coordinator is loading or moving; joining the group again', {
      group_id: this.settings.groupId,
      attempt: this.restarts,
      error: error instanceof Error ? error.message : String(error),
    });
    return true;
  }

  private fail(error: unknown): void {
    this.failure ??= error;
    this.wakeData?.();
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    const generation = ++this.generation;
    const assigned = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition);
        assigned.add(key);
        const part = this.parts.get(key);
        if (part) part.owned = true;
        else this.parts.set(key, { topic, partition, owned: true });
      }
    }
    for (const [key, part] of this.parts) {
      if (!part.owned || assigned.has(key)) continue;
      part.owned = false;
      part.fetchPos = part.yieldPos;
      this.dropQueued(key);
    }
    this.hooks.onAssignment?.([...assigned].sort());
    this.ready = this.seekAssigned(generation, assigned);
    this.ready.catch((error: unknown) => this.fail(error));
  }

  private dropQueued(key: string): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const entry = this.queue[i] as Entry;
      if (entry.key !== key) continue;
      this.buffered -= entry.messages.length - entry.taken;
      this.queue.splice(i, 1);
    }
    for (const wake of [...this.roomWaiters]) wake();
  }

  /** Seek every assigned partition to its position, resolving unknown ones first. */
  private async seekAssigned(generation: number, assigned: ReadonlySet<string>): Promise<void> {
    const unknown = [...assigned]
      .map((key) => this.parts.get(key) as PartitionState)
      .filter((part) => part.fetchPos === undefined);
    if (unknown.length > 0) await this.resolveStart(unknown);
    if (generation !== this.generation || this.stopped) return;
    for (const key of assigned) {
      const part = this.parts.get(key) as PartitionState;
      this.consumer?.seek({ topic: part.topic, partition: part.partition, offset: String(part.fetchPos) });
    }
  }

  /** Where partitions without a bookmark start: the group's committed offset, else auto_offset_reset. */
  private async resolveStart(parts: PartitionState[]): Promise<void> {
    const topics = [...new Set(parts.map((p) => p.topic))];
    const committed = await retryKafka(() =>
      this.admin.fetchOffsets({ groupId: this.settings.groupId, topics }),
    );
    for (const topic of topics) {
      const mine = parts.filter((p) => p.topic === topic);
      const group = committed.find((c) => c.topic === topic)?.partitions ?? [];
      let ends: Awaited<ReturnType<Admin['fetchTopicOffsets']>> | undefined;
      for (const part of mine) {
        const offset = Number(group.find((g) => g.partition === part.partition)?.offset ?? -1);
        let start = offset;
        let from = 'the group offset';
        if (!(offset >= 0)) {
          ends ??= await retryKafka(() => this.admin.fetchTopicOffsets(topic));
          const end = ends.find((e) => e.partition === part.partition);
          start = Number(this.settings.autoOffsetReset === 'earliest' ? end?.low : end?.high) || 0;
          from = `auto_offset_reset ${this.settings.autoOffsetReset}`;
        }
        if (part.fetchPos !== undefined) continue;
        part.fetchPos = start;
        part.yieldPos = start;
        if (!(offset >= 0) && this.settings.autoOffsetReset === 'latest') this.moved = true;
        this.logger.info('kafka: partition starts without a bookmark', {
          topic,
          partition: part.partition,
          offset: start,
          from,
        });
      }
    }
    this.wakeData?.();
  }

  /** Wait until the current assignment's seeks are issued (a newer assignment waits again). */
  private async whenReady(): Promise<void> {
    for (;;) {
      const generation = this.generation;
      await this.ready;
      if (generation === this.generation) return;
    }
  }

  private async onBatch({ batch, isStale, heartbeat, isRunning }: EachBatchPayload): Promise<void> {
    await this.whenReady();
    if (this.stopped || isStale()) return;
    const key = partitionKey(batch.topic, batch.partition);
    const part = this.parts.get(key);
    if (!part?.owned || part.fetchPos === undefined) return;
    // kafkajs keeps the offset it fetched from on the batch (not in its typings).
    const fetched = Number((batch as Batch & { fetchedOffset: string }).fetchedOffset);
    if (fetched > part.fetchPos) {
      // Not a stale batch (no seek is pending): the broker moved us, the offsets in between are gone.
      this.logger.warn('kafka: offsets were skipped (deleted by retention before they were read?)', {
        topic: batch.topic,
        partition: batch.partition,
        expected: part.fetchPos,
        fetched,
      });
      part.fetchPos = fetched;
    }
    const from = part.fetchPos;
    const messages = batch.messages.filter((m) => Number(m.offset) >= from);
    const next = Math.max(from, Number(batch.lastOffset()) + 1);
    if (next === from && messages.length === 0) return;
    this.enqueue(part, key, messages, next);
    this.hooks.onFetch?.(messages.length);
    while (this.buffered >= this.settings.maxBuffered && !this.stopped && isRunning() && !isStale()) {
      await this.waitForRoom(this.settings.heartbeatIntervalMs);
      if (!this.stopped) await heartbeat();
    }
  }

  /** A batch of control records or aborted messages only: the position moves past it. */
  private onFilteredBatch(payload: {
    topic: string;
    partition: number;
    firstOffset: string | null;
    lastOffset: string;
  }): void {
    const key = partitionKey(payload.topic, payload.partition);
    const part = this.parts.get(key);
    if (!part?.owned || part.fetchPos === undefined) return;
    const first = Number(payload.firstOffset ?? payload.lastOffset);
    const next = Number(payload.lastOffset) + 1;
    // Only a batch that starts at or before the position continues it (nothing readable in between).
    if (first > part.fetchPos || next <= part.fetchPos) return;
    this.enqueue(part, key, [], next);
  }

  private enqueue(part: PartitionState, key: string, messages: KafkaMessage[], next: number): void {
    const last = this.queue[this.queue.length - 1];
    if (messages.length === 0 && last?.key === key) last.next = next;
    else this.queue.push({ key, topic: part.topic, partition: part.partition, messages, taken: 0, next });
    part.fetchPos = next;
    this.buffered += messages.length;
    this.lastArrivalAt = performance.now();
    this.wakeData?.();
  }

  private waitForRoom(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.roomWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.roomWaiters.add(done);
    });
  }

  /**
   * Up to `max` queued messages, in arrival order (several partitions may be mixed, each in order);
   * waits up to `waitMs` (forever when undefined) for something to hand out.
   */
  async take(max: number, waitMs: number | undefined, signal: AbortSignal): Promise<TakeResult> {
    if (this.failure !== undefined) throw this.failure;
    if (this.queue.length === 0 && !this.moved) {
      const outcome = await this.waitForData(waitMs, signal);
      if (this.failure !== undefined) throw this.failure;
      if (outcome !== 'data') return outcome;
    }
    const messages: TakenMessage[] = [];
    let moved = this.moved;
    this.moved = false;
    while (messages.length < max && this.queue.length > 0) {
      const entry = this.queue[0] as Entry;
      const part = this.parts.get(entry.key) as PartitionState;
      const count = Math.min(max - messages.length, entry.messages.length - entry.taken);
      for (let i = 0; i < count; i++) {
        const message = entry.messages[entry.taken + i] as KafkaMessage;
        messages.push({ topic: entry.topic, partition: entry.partition, message });
      }
      entry.taken += count;
      this.buffered -= count;
      if (entry.taken < entry.messages.length) {
        const last = messages[messages.length - 1] as TakenMessage;
        part.yieldPos = Number(last.message.offset) + 1;
        break;
      }
      this.queue.shift();
      if (part.yieldPos !== entry.next) moved = true;
      part.yieldPos = entry.next;
    }
    if (messages.length > 0 || moved) for (const wake of [...this.roomWaiters]) wake();
    return { messages, moved };
  }

  private waitForData(
    waitMs: number | undefined,
    signal: AbortSignal,
  ): Promise<'data' | 'timeout' | 'aborted'> {
    if (signal.aborted) return Promise.resolve('aborted');
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (outcome: 'data' | 'timeout' | 'aborted') => {
        if (timer) clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.wakeData = undefined;
        resolve(outcome);
      };
      const onAbort = () => finish('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      if (waitMs !== undefined) timer = setTimeout(() => finish('timeout'), Math.max(0, waitMs));
      this.wakeData = () => finish('data');
    });
  }

  /** The positions handed out so far: what a bookmark holds. */
  positions(): PartitionOffset[] {
    const out: PartitionOffset[] = [];
    for (const part of this.parts.values()) {
      if (part.yieldPos !== undefined) {
        out.push({ topic: part.topic, partition: part.partition, offset: part.yieldPos });
      }
    }
    return out;
  }

  /** The partitions assigned now. */
  owned(): string[] {
    return [...this.parts].filter(([, p]) => p.owned).map(([key]) => key);
  }

  /**
   * Commit the group's offsets to these (stored) positions, for the partitions assigned now.
   * Coalesced: while a commit is in flight only the newest waiting one is kept.
   */
  commit(offsets: PartitionOffset[]): Promise<void> {
    this.pendingCommit = offsets;
    this.committing ??= this.commitLoop().finally(() => {
      this.committing = undefined;
    });
    return this.committing;
  }

  private async commitLoop(): Promise<void> {
    let failures = 0;
    while (this.pendingCommit && this.consumer && !this.stopped) {
      const offsets = this.pendingCommit;
      this.pendingCommit = undefined;
      const owned = offsets.filter((o) => this.parts.get(partitionKey(o.topic, o.partition))?.owned);
      if (owned.length === 0) continue;
      try {
        await this.consumer.commitOffsets(
          owned.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
        );
        failures = 0;
      } catch (error) {
        // A rebalance in progress, a coordinator moving: try again shortly (a newer checkpoint
        // supersedes this one), a few times; the last checkpoint of a read is committed the same way.
        failures++;
        this.logger.debug('kafka: committing the group offsets failed', {
          attempt: failures,
          error: error instanceof Error ? error.message : String(error),
        });
        if (failures >= COMMIT_ATTEMPTS) {
          failures = 0;
          continue;
        }
        this.pendingCommit ??= offsets;
        await new Promise((resolve) => setTimeout(resolve, 250 * 2 ** (failures - 1)));
      }
    }
  }

  /** Stop fetching and leave the group (after a last commit, when one is waiting). */
  async stop(): Promise<void> {
    if (this.committing) await this.committing.catch(() => {});
    this.stopped = true;
    for (const wake of [...this.roomWaiters]) wake();
    await this.consumer?.disconnect().catch(() => {});
    this.consumer = undefined;
  }
}

export type { Batch };
