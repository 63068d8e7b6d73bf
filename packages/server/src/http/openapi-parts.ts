// Building blocks of the OpenAPI document (openapi.ts): object shapes, references and the
// responses every route shares. Plain data, no fastify: the document is built on first request.

export type Schema = Record<string, unknown>;
export interface Ref {
  $ref: string;
}
export interface Header {
  description: string;
  required?: boolean;
  schema: Schema;
}
export interface MediaType {
  schema: Schema | Ref;
  /** our extension: the schema of each event's `data` on a `text/event-stream`, by event name */
  'x-stash-events'?: Record<string, Ref>;
}
export interface Response {
  description: string;
  headers?: Record<string, Header | Ref>;
  content?: Record<string, MediaType>;
  /** our extension: the body may also be empty, without a Content-Type (the guards' bare 503) */
  'x-stash-may-be-empty'?: boolean;
}
export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  description: string;
  required?: boolean;
  schema: Schema;
}
export type SecurityRequirement = Record<string, string[]>;
export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Array<Parameter | Ref>;
  requestBody?: { description?: string; required?: boolean; content: Record<string, MediaType> };
  responses: Record<string, Response | Ref>;
  security?: SecurityRequirement[];
}
export type PathItem = Partial<Record<'get' | 'put' | 'post' | 'delete', Operation>> & { parameters?: Array<Parameter | Ref> };
export type Paths = Record<string, PathItem>;

export const schemaRef = (name: string): Ref => ({ $ref: `#/components/schemas/${name}` });
export const responseRef = (name: string): Ref => ({ $ref: `#/components/responses/${name}` });
export const paramRef = (name: string): Ref => ({ $ref: `#/components/parameters/${name}` });
export const headerRef = (name: string): Ref => ({ $ref: `#/components/headers/${name}` });

export const JSON_TYPE = 'application/json';
export const TEXT_TYPE = 'text/plain';
export const HTML_TYPE = 'text/html';

/** `{"error": "..."}` with the given status meaning. */
export function jsonError(description: string, headers?: Record<string, Header | Ref>): Response {
  return { description, ...(headers ? { headers } : {}), content: { [JSON_TYPE]: { schema: schemaRef('Error') } } };
}

/** A JSON body of the given schema. */
export function json(description: string, schema: Schema | Ref, headers?: Record<string, Header | Ref>): Response {
  return { description, ...(headers ? { headers } : {}), content: { [JSON_TYPE]: { schema } } };
}

/** Plain text, one of the given bodies exactly (Go's `http.Error` adds the newline). */
export function plain(description: string, bodies: readonly string[], headers?: Record<string, Header | Ref>): Response {
  const schema = bodies.length === 1 ? { type: 'string', const: bodies[0] } : { type: 'string', enum: [...bodies] };
  return { description, ...(headers ? { headers } : {}), content: { [TEXT_TYPE]: { schema } } };
}

/** A page or fragment of the web UI. */
export function html(description: string, headers?: Record<string, Header | Ref>): Response {
  return { description, ...(headers ? { headers } : {}), content: { [HTML_TYPE]: { schema: { type: 'string' } } } };
}

/** Plain text the web UI shows in a toast: the message and a newline. */
export function webText(description: string): Response {
  return { description, content: { [TEXT_TYPE]: { schema: { type: 'string', pattern: '\\n$' } } } };
}

export const requiredHeader = (name: string): Header | Ref => headerRef(name);

/** Responses every route can give, whatever it is: the global guards' (compat 3.1). */
const GUARD_RESPONSES: Record<string, Ref> = {
  '429': responseRef('RateLimited'),
  '503': responseRef('Unavailable'),
};

/** An operation with the guards' answers added (a route's own 503 wins). */
export function op(operation: Operation): Operation {
  return { ...operation, responses: { ...operation.responses, ...withoutOwn(GUARD_RESPONSES, operation.responses) } };
}

function withoutOwn(shared: Record<string, Ref>, own: Record<string, unknown>): Record<string, Ref> {
  return Object.fromEntries(Object.entries(shared).filter(([status]) => !(status in own)));
}

/** Anonymous (auth off, or the public `*` token), an API token in either header, or a session cookie. */
export const API_SECURITY: SecurityRequirement[] = [
  {},
  { bearerToken: [] },
  { authToken: [] },
  { sessionCookie: [] },
  { hostSessionCookie: [] },
];
/** The web UI: open while auth is off, else a session cookie from `POST /login`. */
export const WEB_SECURITY: SecurityRequirement[] = [{}, { sessionCookie: [] }, { hostSessionCookie: [] }];
export const PUBLIC: SecurityRequirement[] = [];

export const UNAUTHORIZED = 'Unauthorized\n';
export const FORBIDDEN = 'Forbidden\n';
/** Go 1.25's CrossOriginProtection answers for non-safe browser requests from another origin. */
export const CROSS_ORIGIN = [
  'cross-origin request detected from Sec-Fetch-Site header\n',
  'cross-origin request detected, and/or browser is out of date: Sec-Fetch-Site is missing, and Origin does not match Host\n',
];

export const NO_CREDENTIALS = plain('No credentials, or an unknown token, and no public grant.', [UNAUTHORIZED]);
export const NOT_ALLOWED = plain('The caller may not do this to the key.', [FORBIDDEN]);
export const NOT_ALLOWED_OR_CROSS_ORIGIN = plain(
  'The caller may not write the key, or a browser sent this from another origin (cross-origin protection).',
  [FORBIDDEN, ...CROSS_ORIGIN],
);
