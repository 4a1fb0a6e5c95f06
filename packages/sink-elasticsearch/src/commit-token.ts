/**
 * Effectively-once bookkeeping. Elasticsearch has no transactions, so a page and its commit token
 * cannot be written in one atomic step; instead the page's documents are written first with ids that
 * the same page always gets again (key ids, or ids derived from the token), and the token second, in
 * a small document per state key. A crash between the two leaves the documents and an older token:
 * the engine sends the page again, and writing it again changes nothing.
 */
import type { Client } from '@elastic/elasticsearch';
import { errorTypeOf, statusOf } from './client.js';

interface TokenDocument {
  scope: string;
  token: string;
  /** The index (or index template) the documents of this scope went to, for people looking. */
  index: string;
  updated_at: string;
}

const TOKEN_INDEX_BODY = {
  settings: { number_of_shards: 1, auto_expand_replicas: '0-1' },
  mappings: {
    dynamic: false as const,
    properties: {
      scope: { type: 'keyword' as const },
      token: { type: 'keyword' as const, index: false },
      index: { type: 'keyword' as const },
      updated_at: { type: 'date' as const },
    },
  },
};

export class CommitTokens {
  private ready = false;

  constructor(
    private readonly client: Client,
    private readonly tokenIndex: string,
    private readonly target: string,
  ) {}

  /** The last token stored for a scope (a realtime get: no refresh needed), or undefined. */
  async read(scope: string): Promise<string | undefined> {
    try {
      const doc = await this.client.get<TokenDocument>({ index: this.tokenIndex, id: scope });
      return doc._source?.token;
    } catch (error) {
      // No document, or no token index yet: nothing was committed.
      if (statusOf(error) === 404) return undefined;
      throw error;
    }
  }

  async write(scope: string, token: string, signal: AbortSignal): Promise<void> {
    await this.ensureIndex(signal);
    const document: TokenDocument = {
      scope,
      token,
      index: this.target,
      updated_at: new Date().toISOString(),
    };
    await this.client.index({ index: this.tokenIndex, id: scope, document }, { signal, maxRetries: 3 });
  }

  /** The token index is created explicitly: the cluster may not create indices on its own. */
  private async ensureIndex(signal: AbortSignal): Promise<void> {
    if (this.ready) return;
    const exists = await this.client.indices.exists({ index: this.tokenIndex }, { signal });
    if (!exists) {
      try {
        await this.client.indices.create({ index: this.tokenIndex, ...TOKEN_INDEX_BODY }, { signal });
      } catch (error) {
        if (errorTypeOf(error) !== 'resource_already_exists_exception') throw error;
      }
    }
    this.ready = true;
  }
}
