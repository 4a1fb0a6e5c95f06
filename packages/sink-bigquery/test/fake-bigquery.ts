/**
 * A small BigQuery REST server for the error paths the emulator does not model. Written from the
 * public REST reference (https://cloud.google.com/bigquery/docs/reference/rest), not from the sink:
 *
 * - `tabledata.insertAll`: rows are checked against the table's schema; a bad row is listed in
 *   `insertErrors` as `{index, errors: [{reason: "invalid", location, message}]}`. With
 *   `skipInvalidRows` the valid rows are written; without it none are, and the valid rows are listed
 *   with reason `stopped`. A row whose `insertId` the table has seen before is accepted and dropped
 *   (BigQuery de-duplicates on a best-effort basis for about a minute; this server for its lifetime).
 * - `jobs.insert` (JSON, and multipart/related through `/upload`): a job id that exists already is
 *   refused with HTTP 409 `duplicate` "Already Exists: Job …". Load jobs of NEWLINE_DELIMITED_JSON
 *   are all-or-nothing: one bad line makes the job end DONE with `errorResult` and `errors`, and
 *   nothing is written. Jobs report RUNNING for `pollsBeforeDone` reads, then DONE. No SQL runs here:
 *   query jobs are refused, or, with `acceptQueries`, recorded (id, labels) and DONE without running,
 *   for tests of job ids and labels only.
 * - `jobs.get`, `jobs.list` (newest first, `projection=full`, `stateFilter`, `maxResults`, `pageToken`),
 *   `tables.get / insert / patch / delete`, `datasets.get / insert`.
 * - Errors have the documented shape `{error: {code, message, errors: [{reason, message}], status}}`;
 *   unknown projects, datasets and tables are 404 `notFound`.
 * - Faults on demand (`fail`): a status and reason for the next matching requests, answered before
 *   the request is carried out or after it (a lost response), to drive 5xx and quota retries.
 *
 * Tests read what it holds directly (`rows`, `received`, `jobs`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Row = { [key: string]: Json };

export interface FakeField {
  name: string;
  type: string;
  mode?: string;
  fields?: FakeField[];
}

export interface FakeTable {
  fields: FakeField[];
  rows: Row[];
  insertIds: Set<string>;
  resource: Row;
}

export interface FakeJob {
  resource: { [key: string]: Json } & { status: { state: string } };
  /** Reads left before the job reports DONE. */
  pollsLeft: number;
  final: Row;
}

export interface Fault {
  status: number;
  reason: string;
  message?: string;
  method?: string;
  /** Matches the path (without the query string). */
  path?: RegExp;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** `after`: the request is carried out, then the answer is the error (a lost response). */
  when?: 'before' | 'after';
}

/** One insertAll row as it arrived, duplicates included. */
export interface ReceivedRow {
  table: string;
  insertId: string | undefined;
  json: Row;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_TEXT: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
};

const ALIASES: Record<string, string> = {
  INT64: 'INTEGER',
  FLOAT64: 'FLOAT',
  BOOL: 'BOOLEAN',
  STRUCT: 'RECORD',
};
const typeOf = (field: FakeField): string => ALIASES[field.type.toUpperCase()] ?? field.type.toUpperCase();

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d*)(?:\.(\d*))?$/;

/** Why a value does not fit its column, or undefined. Follows the documented JSON encodings. */
function checkScalar(field: FakeField, value: Json, insertAll: boolean): string | undefined {
  const type = typeOf(field);
  const bad = (what: string) => `Cannot convert value to ${what}.`;
  switch (type) {
    case 'STRING':
      return typeof value === 'object' ? bad('string') : undefined;
    case 'INTEGER': {
      if (typeof value === 'number') return Number.isInteger(value) ? undefined : bad('integer');
      if (typeof value !== 'string' || !INTEGER.test(value)) return bad('integer');
      const n = BigInt(value);
      return n < -(2n ** 63n) || n > 2n ** 63n - 1n ? 'Value out of range for INT64.' : undefined;
    }
    case 'FLOAT':
      return typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(Number(value)))
        ? undefined
        : bad('floating point');
    case 'NUMERIC':
    case 'BIGNUMERIC': {
      if (typeof value === 'number') return undefined;
      const m = typeof value === 'string' ? DECIMAL.exec(value) : null;
      if (!m) return bad(type === 'NUMERIC' ? 'NUMERIC' : 'BIGNUMERIC');
      const [intMax, fracMax] = type === 'NUMERIC' ? [29, 9] : [38, 38];
      const intDigits = (m[1] ?? '').replace(/^0+/, '').length;
      return intDigits > intMax || (m[2] ?? '').length > fracMax
        ? `Invalid ${type} value: ${String(value)}`
        : undefined;
    }
    case 'BOOLEAN':
      return typeof value === 'boolean' || value === 'true' || value === 'false' ? undefined : bad('boolean');
    case 'TIMESTAMP':
      return typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(Date.parse(value)))
        ? undefined
        : `Invalid timestamp: ${JSON.stringify(value)}`;
    case 'JSON':
      if (!insertAll) return undefined;
      if (typeof value !== 'string') return 'This field: is not a JSON string.';
      try {
        JSON.parse(value);
        return undefined;
      } catch {
        return 'This field: is not a valid JSON string.';
      }
    default:
      return undefined;
  }
}

/** The first problem of a row against the fields: [location, message], or undefined. */
export function checkRow(
  fields: readonly FakeField[],
  row: Row,
  insertAll: boolean,
  prefix = '',
): [string, string] | undefined {
  const byName = new Map(fields.map((f) => [f.name, f]));
  for (const [name, value] of Object.entries(row)) {
    const field = byName.get(name);
    const location = `${prefix}${name}`;
    if (!field) return [location, `no such field: ${location}.`];
    if (value === null) {
      if (field.mode === 'REQUIRED') return [location, `Missing required field: ${location}.`];
      continue;
    }
    const values = field.mode === 'REPEATED' ? value : [value];
    if (!Array.isArray(values)) return [location, `Array specified for non-repeated field: ${location}.`];
    for (const item of values) {
      if (typeOf(field) === 'RECORD') {
        if (typeof item !== 'object' || item === null || Array.isArray(item))
          return [location, 'This field is not a record.'];
        const inner = checkRow(field.fields ?? [], item, insertAll, `${location}.`);
        if (inner) return inner;
        continue;
      }
      const problem = item === null ? 'Null value in a repeated field.' : checkScalar(field, item, insertAll);
      if (problem) return [location, problem];
    }
  }
  for (const field of fields) {
    if (field.mode === 'REQUIRED' && (row[field.name] === undefined || row[field.name] === null)) {
      return [`${prefix}${field.name}`, `Missing required field: ${prefix}${field.name}.`];
    }
  }
  return undefined;
}

/** The parts of a multipart/related body: [headers, content]. */
function multipart(body: Buffer, contentType: string): [string, Buffer][] {
  const boundary = /boundary=("?)([^";]+)\1/.exec(contentType)?.[2];
  if (!boundary) throw new HttpError(400, 'invalid', 'multipart body without a boundary');
  const text = body.toString('latin1');
  const parts: [string, Buffer][] = [];
  for (const chunk of text.split(`--${boundary}`).slice(1)) {
    if (chunk.startsWith('--')) break;
    const start = chunk.indexOf('\r\n\r\n');
    if (start < 0) continue;
    let content = chunk.slice(start + 4);
    if (content.endsWith('\r\n')) content = content.slice(0, -2);
    parts.push([chunk.slice(0, start), Buffer.from(content, 'latin1')]);
  }
  return parts;
}

export class FakeBigQuery {
  url = '';
  /** Projects that exist; requests for others are 404. */
  readonly projects: Set<string>;
  readonly datasets = new Set<string>();
  readonly tables = new Map<string, FakeTable>();
  readonly jobs = new Map<string, FakeJob>();
  /** Job keys, oldest first. */
  readonly jobOrder: string[] = [];
  readonly received: ReceivedRow[] = [];
  readonly requests: { method: string; path: string; authorization: string | undefined }[] = [];
  /** Reads of a job that answer RUNNING before it answers DONE. */
  pollsBeforeDone = 1;
  /** Answer every insertAll as if `skipInvalidRows` were false (bad rows stop the others). */
  ignoreSkipInvalidRows = false;
  /** Record query jobs (DONE, their SQL not run) instead of refusing them. */
  acceptQueries = false;
  /** The SQL of the query jobs recorded, oldest first. */
  readonly queries: string[] = [];
  private readonly faults: Fault[] = [];
  private server: Server | undefined;

  constructor(projects: readonly string[] = ['test-project']) {
    this.projects = new Set(projects);
  }

  static async start(projects?: readonly string[]): Promise<FakeBigQuery> {
    const fake = new FakeBigQuery(projects);
    fake.server = createServer((req, res) => {
      void fake.handle(req, res);
    });
    await new Promise<void>((resolve) => fake.server?.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}`;
    return fake;
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  createDataset(project: string, dataset: string): void {
    this.projects.add(project);
    this.datasets.add(`${project}:${dataset}`);
  }

  createTable(project: string, dataset: string, table: string, fields: FakeField[]): FakeTable {
    const key = `${project}:${dataset}.${table}`;
    const created: FakeTable = {
      fields,
      rows: [],
      insertIds: new Set(),
      resource: {
        kind: 'bigquery#table',
        id: key,
        tableReference: { projectId: project, datasetId: dataset, tableId: table },
        type: 'TABLE',
        creationTime: String(Date.now()),
      },
    };
    this.tables.set(key, created);
    return created;
  }

  table(project: string, dataset: string, table: string): FakeTable | undefined {
    return this.tables.get(`${project}:${dataset}.${table}`);
  }

  /** Change a table's schema behind its writers' backs (what an administrator might do). */
  setSchema(project: string, dataset: string, table: string, fields: FakeField[]): void {
    const t = this.table(project, dataset, table);
    if (!t) throw new Error(`no table ${project}:${dataset}.${table}`);
    t.fields = fields;
  }

  /** Make the next matching requests fail. */
  fail(fault: Fault): void {
    this.faults.push({ times: 1, when: 'before', ...fault });
  }

  private takeFault(method: string, path: string, when: 'before' | 'after'): Fault | undefined {
    const i = this.faults.findIndex(
      (f) =>
        (f.when ?? 'before') === when && (!f.method || f.method === method) && (!f.path || f.path.test(path)),
    );
    if (i < 0) return undefined;
    const fault = this.faults[i] as Fault;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.faults.splice(i, 1);
    return fault;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      // The client went away mid-request (a killed process): nothing to answer.
      return;
    }
    const body = Buffer.concat(chunks);
    this.requests.push({ method, path: url.pathname, authorization: req.headers.authorization });
    const send = (status: number, payload: Json) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' });
      res.end(JSON.stringify(payload));
    };
    const error = (status: number, reason: string, message: string) =>
      send(status, {
        error: {
          code: status,
          message,
          errors: [{ message, domain: 'global', reason }],
          status: STATUS_TEXT[status] ?? 'UNKNOWN',
        },
      });
    try {
      const before = this.takeFault(method, url.pathname, 'before');
      if (before) return error(before.status, before.reason, before.message ?? `injected ${before.reason}`);
      const [status, payload] = this.route(method, url, body, req.headers['content-type'] ?? '');
      const after = this.takeFault(method, url.pathname, 'after');
      if (after) return error(after.status, after.reason, after.message ?? `injected ${after.reason}`);
      send(status, payload);
    } catch (e) {
      if (e instanceof HttpError) return error(e.status, e.reason, e.message);
      error(500, 'internalError', e instanceof Error ? e.message : String(e));
    }
  }

  private route(method: string, url: URL, body: Buffer, contentType: string): [number, Json] {
    const upload = /^\/upload\/bigquery\/v2\/projects\/([^/]+)\/jobs$/.exec(url.pathname);
    if (upload && method === 'POST') {
      const project = this.project(upload[1] as string);
      const parts = multipart(body, contentType);
      const [meta, data] = [parts[0]?.[1], parts[1]?.[1]];
      if (!meta || !data)
        throw new HttpError(400, 'invalid', 'a multipart upload needs the job and the data');
      return [200, this.insertJob(project, JSON.parse(meta.toString('utf8')) as Row, data)];
    }
    const m = /^\/bigquery\/v2\/projects\/([^/]+)(\/.*)?$/.exec(url.pathname);
    if (!m) throw new HttpError(404, 'notFound', `Not found: URL ${url.pathname}`);
    const project = this.project(m[1] as string);
    const rest = m[2] ?? '';
    const json = (): Row => (body.length > 0 ? (JSON.parse(body.toString('utf8')) as Row) : {});
    const at = (pattern: RegExp, verb?: string): string[] | undefined => {
      const match = pattern.exec(rest);
      return match && (!verb || verb === method)
        ? match.slice(1).map((p) => decodeURIComponent(p))
        : undefined;
    };
    const job = at(/^\/jobs\/([^/]+)$/, 'GET');
    if (job) return [200, this.getJob(project, job[0] as string)];
    if (at(/^\/jobs$/, 'GET')) return [200, this.listJobs(project, url.searchParams)];
    if (at(/^\/jobs$/, 'POST')) return [200, this.insertJob(project, json(), undefined)];
    const dataset = at(/^\/datasets\/([^/]+)$/);
    if (dataset) return this.dataset(method, project, dataset[0] as string);
    if (at(/^\/datasets$/, 'POST')) {
      const ref = (json().datasetReference ?? {}) as Row;
      const id = `${project}:${String(ref.datasetId)}`;
      if (this.datasets.has(id)) throw new HttpError(409, 'duplicate', `Already Exists: Dataset ${id}`);
      this.datasets.add(id);
      return [200, { kind: 'bigquery#dataset', id, datasetReference: ref }];
    }
    const tables = at(/^\/datasets\/([^/]+)\/tables$/, 'POST');
    if (tables) return [200, this.insertTable(project, tables[0] as string, json())];
    const insert = at(/^\/datasets\/([^/]+)\/tables\/([^/]+)\/insertAll$/, 'POST');
    if (insert) return [200, this.insertAll(project, insert[0] as string, insert[1] as string, json())];
    const table = at(/^\/datasets\/([^/]+)\/tables\/([^/]+)$/);
    if (table) return this.tableCall(method, project, table[0] as string, table[1] as string, json);
    throw new HttpError(404, 'notFound', `Not found: ${method} ${url.pathname}`);
  }

  private project(id: string): string {
    const project = decodeURIComponent(id);
    if (!this.projects.has(project)) throw new HttpError(404, 'notFound', `Not found: Project ${project}`);
    return project;
  }

  private dataset(method: string, project: string, dataset: string): [number, Json] {
    const id = `${project}:${dataset}`;
    if (!this.datasets.has(id)) throw new HttpError(404, 'notFound', `Not found: Dataset ${id}`);
    if (method === 'DELETE') {
      this.datasets.delete(id);
      return [204, null];
    }
    return [
      200,
      { kind: 'bigquery#dataset', id, datasetReference: { projectId: project, datasetId: dataset } },
    ];
  }

  private existingTable(project: string, dataset: string, table: string): FakeTable {
    if (!this.datasets.has(`${project}:${dataset}`))
      throw new HttpError(404, 'notFound', `Not found: Dataset ${project}:${dataset}`);
    const t = this.table(project, dataset, table);
    if (!t) throw new HttpError(404, 'notFound', `Not found: Table ${project}:${dataset}.${table}`);
    return t;
  }

  private tableResource(t: FakeTable): Json {
    return { ...t.resource, schema: { fields: t.fields as unknown as Json }, numRows: String(t.rows.length) };
  }

  private insertTable(project: string, dataset: string, body: Row): Json {
    if (!this.datasets.has(`${project}:${dataset}`))
      throw new HttpError(404, 'notFound', `Not found: Dataset ${project}:${dataset}`);
    const ref = (body.tableReference ?? {}) as Row;
    const table = String(ref.tableId);
    if (this.table(project, dataset, table)) {
      throw new HttpError(409, 'duplicate', `Already Exists: Table ${project}:${dataset}.${table}`);
    }
    const fields = (((body.schema ?? {}) as Row).fields ?? []) as unknown as FakeField[];
    const t = this.createTable(project, dataset, table, fields);
    for (const k of ['timePartitioning', 'clustering', 'expirationTime'])
      if (body[k] !== undefined) t.resource[k] = body[k] as Json;
    return this.tableResource(t);
  }

  private tableCall(
    method: string,
    project: string,
    dataset: string,
    table: string,
    json: () => Row,
  ): [number, Json] {
    const t = this.existingTable(project, dataset, table);
    if (method === 'GET') return [200, this.tableResource(t)];
    if (method === 'DELETE') {
      this.tables.delete(`${project}:${dataset}.${table}`);
      return [204, null];
    }
    if (method === 'PATCH' || method === 'PUT') {
      const fields = (((json().schema ?? {}) as Row).fields ?? undefined) as unknown as
        | FakeField[]
        | undefined;
      if (fields) {
        for (const old of t.fields) {
          const now = fields.find((f) => f.name === old.name);
          if (!now)
            throw new HttpError(
              400,
              'invalid',
              `Provided Schema does not match Table ${project}:${dataset}.${table}. Cannot add fields (field: ${old.name})`,
            );
          if (typeOf(now) !== typeOf(old)) {
            throw new HttpError(
              400,
              'invalid',
              `Provided Schema does not match Table ${project}:${dataset}.${table}. Field ${old.name} has changed type from ${typeOf(old)} to ${typeOf(now)}`,
            );
          }
        }
        t.fields = fields;
      }
      return [200, this.tableResource(t)];
    }
    throw new HttpError(405, 'invalid', `${method} is not allowed on a table`);
  }

  private insertAll(project: string, dataset: string, table: string, body: Row): Json {
    const t = this.existingTable(project, dataset, table);
    const rows = (body.rows ?? []) as { insertId?: string; json: Row }[];
    const name = `${project}:${dataset}.${table}`;
    const errors: { index: number; errors: Row[] }[] = [];
    const valid: number[] = [];
    rows.forEach((row, index) => {
      this.received.push({ table: name, insertId: row.insertId, json: row.json });
      const problem = body.ignoreUnknownValues
        ? checkRow(
            t.fields,
            Object.fromEntries(Object.entries(row.json).filter(([k]) => t.fields.some((f) => f.name === k))),
            true,
          )
        : checkRow(t.fields, row.json, true);
      if (problem)
        errors.push({
          index,
          errors: [{ reason: 'invalid', location: problem[0], debugInfo: '', message: problem[1] }],
        });
      else valid.push(index);
    });
    if (errors.length > 0 && (!body.skipInvalidRows || this.ignoreSkipInvalidRows)) {
      for (const index of valid)
        errors.push({ index, errors: [{ reason: 'stopped', location: '', debugInfo: '', message: '' }] });
      errors.sort((a, b) => a.index - b.index);
      return { kind: 'bigquery#tableDataInsertAllResponse', insertErrors: errors as unknown as Json };
    }
    for (const index of valid) {
      const row = rows[index] as { insertId?: string; json: Row };
      if (row.insertId !== undefined) {
        if (t.insertIds.has(row.insertId)) continue;
        t.insertIds.add(row.insertId);
      }
      t.rows.push(row.json);
    }
    return errors.length > 0
      ? { kind: 'bigquery#tableDataInsertAllResponse', insertErrors: errors as unknown as Json }
      : { kind: 'bigquery#tableDataInsertAllResponse' };
  }

  private jobKey(project: string, jobId: string): string {
    return `${project}:${jobId}`;
  }

  private insertJob(project: string, resource: Row, data: Buffer | undefined): Json {
    const ref = { ...((resource.jobReference ?? {}) as Row) };
    const jobId = typeof ref.jobId === 'string' ? ref.jobId : `fake_${this.jobOrder.length + 1}`;
    const location = typeof ref.location === 'string' ? ref.location : 'US';
    const key = this.jobKey(project, jobId);
    if (this.jobs.has(key))
      throw new HttpError(409, 'duplicate', `Already Exists: Job ${project}:${location}.${jobId}`);
    const configuration = (resource.configuration ?? {}) as Row;
    const query = configuration.query as Row | undefined;
    if (query && !this.acceptQueries) {
      throw new HttpError(501, 'notImplemented', 'this fake BigQuery runs no SQL (query jobs)');
    }
    if (query) this.queries.push(String(query.query));
    const load = configuration.load as Row | undefined;
    if (!load && !query) throw new HttpError(400, 'invalid', 'a job needs a configuration (load or query)');
    const final = query
      ? { state: 'DONE' }
      : data && load
        ? this.runLoad(project, load, data)
        : {
            state: 'DONE',
            errorResult: {
              reason: 'invalid',
              message: 'a load job needs data (sourceUris are not supported here)',
            },
          };
    const now = String(Date.now());
    const job: FakeJob = {
      resource: {
        kind: 'bigquery#job',
        id: `${project}:${location}.${jobId}`,
        jobReference: { projectId: project, jobId, location },
        configuration: { jobType: query ? 'QUERY' : 'LOAD', ...configuration },
        status: { state: this.pollsBeforeDone > 0 ? 'RUNNING' : 'DONE' },
        statistics: { creationTime: now, startTime: now },
      },
      pollsLeft: this.pollsBeforeDone,
      final: final as Row,
    };
    if (this.pollsBeforeDone === 0) this.finish(job);
    this.jobs.set(key, job);
    this.jobOrder.push(key);
    return job.resource;
  }

  /** Check every line, then write all of them or none. Returns the job's final status. */
  private runLoad(project: string, load: Row, data: Buffer): Json {
    const dest = (load.destinationTable ?? {}) as Row;
    const dataset = String(dest.datasetId);
    const tableId = String(dest.tableId);
    let t = this.table(project, dataset, tableId);
    const schema = (((load.schema ?? {}) as Row).fields ?? undefined) as unknown as FakeField[] | undefined;
    if (!t) {
      if (load.createDisposition !== 'CREATE_IF_NEEDED' || !schema) {
        return {
          state: 'DONE',
          errorResult: { reason: 'notFound', message: `Not found: Table ${project}:${dataset}.${tableId}` },
        };
      }
      if (!this.datasets.has(`${project}:${dataset}`)) {
        return {
          state: 'DONE',
          errorResult: { reason: 'notFound', message: `Not found: Dataset ${project}:${dataset}` },
        };
      }
      t = this.createTable(project, dataset, tableId, schema);
    } else if (schema && load.writeDisposition === 'WRITE_TRUNCATE') {
      t.fields = schema;
    }
    const rows: Row[] = [];
    const errors: Row[] = [];
    data
      .toString('utf8')
      .split('\n')
      .forEach((line, i) => {
        if (line.trim() === '') return;
        let row: Row;
        try {
          row = JSON.parse(line) as Row;
        } catch {
          errors.push({
            reason: 'invalid',
            location: `line ${i + 1}`,
            message: `Error while reading data, error message: JSON parsing error in row starting at line ${i + 1}`,
          });
          return;
        }
        const problem = checkRow((t as FakeTable).fields, row, false);
        if (problem) {
          errors.push({
            reason: 'invalid',
            location: problem[0],
            message: `Error while reading data, error message: JSON parsing error in row starting at line ${i + 1}: ${problem[1]}`,
          });
        } else rows.push(row);
      });
    if (errors.length > 0) {
      return {
        state: 'DONE',
        errorResult: {
          reason: 'invalid',
          message: `Error while reading data, error message: JSON table encountered too many errors, giving up. Rows: ${errors.length}; errors: ${errors.length}. Please look into the errors[] collection for more details.`,
        },
        errors: errors as unknown as Json,
      };
    }
    if (load.writeDisposition === 'WRITE_TRUNCATE') t.rows = rows;
    else t.rows.push(...rows);
    return { state: 'DONE', outputRows: String(rows.length) };
  }

  private finish(job: FakeJob): void {
    const { outputRows, ...status } = job.final;
    job.resource.status = status as { state: string };
    const statistics = job.resource.statistics as Row;
    statistics.endTime = String(Date.now());
    if (outputRows !== undefined) statistics.load = { outputRows };
  }

  private getJob(project: string, jobId: string): Json {
    const job = this.jobs.get(this.jobKey(project, jobId));
    if (!job) throw new HttpError(404, 'notFound', `Not found: Job ${project}:${jobId}`);
    if (job.resource.status.state !== 'DONE') {
      job.pollsLeft -= 1;
      if (job.pollsLeft <= 0) this.finish(job);
    }
    return job.resource;
  }

  private listJobs(project: string, params: URLSearchParams): Json {
    const full = params.get('projection') === 'full';
    const state = params.get('stateFilter');
    const max = Number(params.get('maxResults') ?? '1000');
    const start = Number(params.get('pageToken') ?? '0');
    const all = [...this.jobOrder]
      .reverse()
      .map((key) => this.jobs.get(key) as FakeJob)
      .filter((job) => (job.resource.jobReference as Row).projectId === project)
      .filter((job) => !state || job.resource.status.state.toLowerCase() === state.toLowerCase());
    const page = all.slice(start, start + max).map((job) => {
      const { configuration, ...rest } = job.resource;
      return { ...rest, state: job.resource.status.state, ...(full ? { configuration } : {}) } as Json;
    });
    return {
      kind: 'bigquery#jobList',
      jobs: page,
      ...(start + max < all.length ? { nextPageToken: String(start + max) } : {}),
    };
  }

  /** Rows of a table (what a query would read back). */
  rows(project: string, dataset: string, table: string): Row[] {
    return this.table(project, dataset, table)?.rows ?? [];
  }
}
