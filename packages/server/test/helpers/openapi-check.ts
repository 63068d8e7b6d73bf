import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';

// Checks real responses against packages/server/openapi.json: the status is documented for the
// operation, its required headers are there and match their schemas, and the body matches the
// media type's schema (JSON parsed, plain text as a string, SSE event by event). Objects are
// checked closed: a field the document does not name fails here, although clients are told to
// ignore unknown fields. Any test may use it; it records which statuses each operation showed.

export const OPENAPI_FILE = join(import.meta.dirname, '..', '..', 'openapi.json');

export type Method = 'get' | 'put' | 'post' | 'delete';
type Json = Record<string, unknown>;

export interface Observed {
  status: number;
  /** header name (any case) to value */
  headers: Headers | Record<string, string | string[] | number | undefined>;
  body: string | Buffer;
}

export interface CheckedResponse {
  status: number;
  headers: Headers;
  text: string;
  body: Buffer;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const COMPONENTS_ID = 'urn:stash:openapi-components';
const ANNOTATIONS = new Set(['description', 'title', 'examples', 'contentMediaType', 'contentEncoding', 'default']);
const SHARED_GUARD_RESPONSES = ['RateLimited', 'TooLarge', 'Unavailable', 'ServerError', 'StorageFull'];
/** request headers of the API that must be documented parameters when a test sends them */
const API_REQUEST_HEADERS = ['if-match', 'if-none-match', 'x-stash-format', 'last-event-id'];

/** Deep copy with `$ref`s into components.schemas pointed at our registered schema, and objects closed. */
function prepare(schema: unknown, inComponents: boolean): unknown {
  if (Array.isArray(schema)) return schema.map((s) => prepare(s, inComponents));
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Json = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      out[k] = `${inComponents ? '' : COMPONENTS_ID}#/$defs/${v.slice('#/components/schemas/'.length)}`;
    } else if (k === 'properties' && typeof v === 'object' && v !== null) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, prepare(s, inComponents)]));
    } else out[k] = prepare(v, inComponents);
  }
  if ('properties' in out && !('additionalProperties' in out)) out['additionalProperties'] = false;
  return out;
}

function headerValue(headers: Observed['headers'], name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const found = Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  if (found === undefined) return undefined;
  return Array.isArray(found) ? found.join(', ') : String(found);
}

function parseEvents(text: string): Array<{ event: string; id: string | undefined; data: string }> {
  const events = [];
  for (const block of text.split('\n\n')) {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'id') id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length > 0) events.push({ event, id, data: data.join('\n') });
  }
  return events;
}

export class OpenApiChecker {
  readonly doc: Json;
  private readonly ajv = new Ajv2020({ strict: true, allErrors: true });
  private readonly compiled = new Map<unknown, ValidateFunction>();
  /** `get /kv/{key}` to the statuses responses showed */
  readonly seen = new Map<string, Set<string>>();
  /** responses checked so far */
  checked = 0;

  constructor(doc: Json = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json) {
    this.doc = doc;
    this.ajv.addFormat('date-time', RFC3339);
    this.ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
    const schemas = (this.component('schemas') ?? {}) as Json;
    this.ajv.addSchema({ $id: COMPONENTS_ID, $defs: prepare(schemas, true) as Json });
  }

  private component(kind: string): Json | undefined {
    return (this.doc['components'] as Json | undefined)?.[kind] as Json | undefined;
  }

  /** Follow a `#/components/...` reference (objects other than schemas). */
  deref<T>(value: T | { $ref: string }): T {
    let current: unknown = value;
    while (typeof current === 'object' && current !== null && '$ref' in current) {
      const path = String((current as { $ref: string }).$ref).replace(/^#\//, '').split('/');
      current = path.reduce<unknown>((node, part) => (node as Json)[part], this.doc);
      if (current === undefined) throw new Error(`unresolved ${String((value as { $ref: string }).$ref)}`);
    }
    return current as T;
  }

  /** Every operation of the document. */
  operations(): Array<{ method: Method; path: string; op: Json }> {
    const out: Array<{ method: Method; path: string; op: Json }> = [];
    for (const [path, item] of Object.entries(this.doc['paths'] as Record<string, Json>)) {
      for (const method of ['get', 'put', 'post', 'delete'] as const) {
        if (item[method]) out.push({ method, path, op: item[method] as Json });
      }
    }
    return out;
  }

  operation(method: Method, path: string): Json {
    const op = (this.doc['paths'] as Record<string, Json | undefined>)[path]?.[method] as Json | undefined;
    if (!op) throw new Error(`${method.toUpperCase()} ${path} is not in the document`);
    return op;
  }

  /** Names of the parameters (path item's and operation's) of one operation, by location. */
  parameters(method: Method, path: string): Array<{ name: string; in: string }> {
    const item = (this.doc['paths'] as Record<string, Json>)[path] as Json;
    const all = [...((item['parameters'] as unknown[]) ?? []), ...((this.operation(method, path)['parameters'] as unknown[]) ?? [])];
    return all.map((p) => this.deref(p as Json) as { name: string; in: string });
  }

  /** A validator of one schema (a component by name, or an inline schema object). */
  validator(schema: string | unknown): ValidateFunction {
    const key = typeof schema === 'string' ? `#${schema}` : schema;
    let fn = this.compiled.get(key);
    if (!fn) {
      fn = this.ajv.compile(typeof schema === 'string' ? { $ref: `${COMPONENTS_ID}#/$defs/${schema}` } : (prepare(schema, false) as Json));
      this.compiled.set(key, fn);
    }
    return fn;
  }

  private validate(schema: unknown, value: unknown, where: string): string[] {
    const fn = this.validator(schema);
    if (fn(value)) return [];
    return [`${where}: ${this.ajv.errorsText(fn.errors)} (got ${JSON.stringify(value)?.slice(0, 300)})`];
  }

  /** What is wrong with a response to `method path` (empty when it matches the document). */
  problems(method: Method, path: string, res: Observed): string[] {
    const op = this.operation(method, path);
    const status = String(res.status);
    const raw = (op['responses'] as Json)[status];
    if (raw === undefined) return [`status ${status} is not documented (documented: ${Object.keys(op['responses'] as Json).join(', ')})`];
    const response = this.deref(raw as Json);
    const problems: string[] = [];
    for (const [name, h] of Object.entries((response['headers'] as Json | undefined) ?? {})) {
      const header = this.deref(h as Json) as { required?: boolean; schema: Json };
      const value = headerValue(res.headers, name);
      if (value === undefined) {
        if (header.required) problems.push(`header ${name} is missing`);
        continue;
      }
      const typed = header.schema['type'] === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
      problems.push(...this.validate(header.schema, typed, `header ${name}`));
    }
    const body = typeof res.body === 'string' ? Buffer.from(res.body) : res.body;
    const type = headerValue(res.headers, 'content-type');
    const content = response['content'] as Record<string, Json> | undefined;
    if (!content) {
      if (body.length > 0) problems.push(`a body (${body.length} bytes) where none is documented`);
      return problems;
    }
    if (body.length === 0 && type === undefined && response['x-stash-may-be-empty'] === true) return problems;
    if (type === undefined) return [...problems, 'no Content-Type'];
    const essence = type.split(';')[0]?.trim().toLowerCase() ?? '';
    const media = content[essence];
    if (!media) return [...problems, `Content-Type ${type} is not documented (documented: ${Object.keys(content).join(', ')})`];
    return [...problems, ...this.bodyProblems(essence, media, body.toString('utf8'))];
  }

  private bodyProblems(essence: string, media: Json, text: string): string[] {
    const schema = media['schema'] as Json;
    if (Object.keys(schema).every((k) => ANNOTATIONS.has(k))) return [];
    if (essence === 'application/json' || essence.endsWith('+json')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        return [`body is not JSON: ${text.slice(0, 200)}`];
      }
      return this.validate(schema, parsed, 'body');
    }
    const problems = this.validate(schema, text, 'body');
    if (essence === 'text/event-stream') {
      const events = (media['x-stash-events'] ?? {}) as Record<string, Json>;
      for (const e of parseEvents(text)) {
        const eventSchema = events[e.event];
        if (!eventSchema) {
          problems.push(`undocumented event "${e.event}"`);
          continue;
        }
        if (e.id !== undefined && !/^\d+$/.test(e.id)) problems.push(`event id "${e.id}" is not a revision`);
        const ref = this.deref(eventSchema) as Json;
        let data: unknown;
        try {
          data = JSON.parse(e.data);
        } catch {
          problems.push(`event data is not JSON: ${e.data}`);
          continue;
        }
        problems.push(...this.validate(ref, data, `event ${e.event}`));
      }
    }
    return problems;
  }

  /** Throw unless the response matches; record the status as seen for the operation. */
  expectDocumented(method: Method, path: string, res: Observed): void {
    const problems = this.problems(method, path, res);
    if (problems.length > 0) throw new Error(`${method.toUpperCase()} ${path} → ${res.status}: ${problems.join('; ')}`);
    this.checked++;
    const key = `${method} ${path}`;
    if (!this.seen.has(key)) this.seen.set(key, new Set());
    this.seen.get(key)?.add(String(res.status));
  }

  /**
   * Send a request and check the answer against `method path` of the document. The query
   * parameters and API headers sent must be documented parameters of the operation.
   */
  async fetch(method: Method, path: string, url: string, init: RequestInit = {}): Promise<CheckedResponse> {
    const documented = this.parameters(method, path);
    const names = (where: string): Set<string> => new Set(documented.filter((p) => p.in === where).map((p) => p.name.toLowerCase()));
    for (const name of new URL(url).searchParams.keys()) {
      if (!names('query').has(name.toLowerCase())) throw new Error(`${method.toUpperCase()} ${path}: query parameter ${name} is not documented`);
    }
    for (const name of new Headers(init.headers).keys()) {
      if (API_REQUEST_HEADERS.includes(name) && !names('header').has(name)) throw new Error(`${method.toUpperCase()} ${path}: header ${name} is not documented`);
    }
    const res = await fetch(url, { redirect: 'manual', ...init, method: method.toUpperCase() });
    const body = Buffer.from(await res.arrayBuffer());
    this.expectDocumented(method, path, { status: res.status, headers: res.headers, body });
    return { status: res.status, headers: res.headers, text: body.toString('utf8'), body };
  }

  /**
   * Documented statuses of the chosen operations that no checked response showed, as
   * `method path status`. The guards' shared answers (rate limit, body too large, unavailable,
   * server error, disk full) and other 500s are left out: they are hard to cause on every route.
   */
  unseen(include: (op: { method: Method; path: string; tags: string[] }) => boolean): string[] {
    const out: string[] = [];
    for (const { method, path, op } of this.operations()) {
      if (!include({ method, path, tags: op['tags'] as string[] })) continue;
      for (const [status, response] of Object.entries(op['responses'] as Record<string, Json>)) {
        const shared = typeof response['$ref'] === 'string' && SHARED_GUARD_RESPONSES.some((name) => response['$ref'] === `#/components/responses/${name}`);
        if (shared || status === '500' || status === '503') continue;
        if (!this.seen.get(`${method} ${path}`)?.has(status)) out.push(`${method} ${path} ${status}`);
      }
    }
    return out;
  }

  /** Validate a request body the test sends against the operation's request schema. */
  expectValidRequest(method: Method, path: string, mediaType: string, body: unknown): void {
    const content = (this.operation(method, path)['requestBody'] as Json | undefined)?.['content'] as Record<string, Json> | undefined;
    const media = content?.[mediaType];
    if (!media) throw new Error(`${method.toUpperCase()} ${path} documents no ${mediaType} request body`);
    const problems = this.validate(media['schema'], body, 'request body');
    if (problems.length > 0) throw new Error(`${method.toUpperCase()} ${path}: ${problems.join('; ')}`);
  }
}
