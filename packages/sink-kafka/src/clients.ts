/**
 * The kafkajs clients of one sink, each connected on first use: the admin client, the plain
 * producer (idempotent by default) and one transactional producer per state key (effectively-once).
 * A connection that failed is forgotten, so the next call tries again.
 */
import { durationMs } from '@faucet/common-kafka';
import { type Admin, type Kafka, Partitioners, type Producer } from 'kafkajs';
import type { KafkaSinkConfig } from './config.js';

type Connectable = { connect(): Promise<void>; disconnect(): Promise<void> };

export class SinkClients {
  private admin: Promise<Admin> | undefined;
  private plain: Promise<Producer> | undefined;
  private readonly transactional = new Map<string, Promise<Producer>>();

  constructor(
    private readonly kafka: Kafka,
    private readonly config: Pick<
      KafkaSinkConfig,
      'idempotent' | 'transactional_id_prefix' | 'transaction_timeout'
    >,
  ) {}

  private connect<T extends Connectable>(make: () => T, forget: () => void): Promise<T> {
    const client = make();
    return client.connect().then(
      () => client,
      (error: unknown) => {
        forget();
        throw error;
      },
    );
  }

  private producerOptions() {
    return {
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: false,
      retry: { retries: 5 },
    };
  }

  getAdmin(): Promise<Admin> {
    this.admin ??= this.connect(
      () => this.kafka.admin(),
      () => {
        this.admin = undefined;
      },
    );
    return this.admin;
  }

  getPlain(): Promise<Producer> {
    const idempotent = this.config.idempotent;
    this.plain ??= this.connect(
      () =>
        this.kafka.producer({
          ...this.producerOptions(),
          idempotent,
          ...(idempotent ? { maxInFlightRequests: 1 } : {}),
        }),
      () => {
        this.plain = undefined;
      },
    );
    return this.plain;
  }

  /** The transactional producer of a state key: id `<transactional_id_prefix>-<scope>`. */
  getTransactional(scope: string): Promise<Producer> {
    let producer = this.transactional.get(scope);
    if (!producer) {
      producer = this.connect(
        () =>
          this.kafka.producer({
            ...this.producerOptions(),
            idempotent: true,
            maxInFlightRequests: 1,
            transactionalId: `${this.config.transactional_id_prefix}-${scope}`,
            transactionTimeout: durationMs(this.config.transaction_timeout),
          }),
        () => this.transactional.delete(scope),
      );
      this.transactional.set(scope, producer);
    }
    return producer;
  }

  async closeAll(): Promise<void> {
    const clients: (Promise<Connectable> | undefined)[] = [
      this.admin,
      this.plain,
      ...this.transactional.values(),
    ];
    await Promise.all(clients.map((c) => c?.then((client) => client.disconnect()).catch(() => {})));
  }
}
