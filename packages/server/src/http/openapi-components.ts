import { FORMATS } from '@stash/client/core';
import { ACTOR_TYPES, AUDIT_ACTIONS, AUDIT_RESULTS } from '../shared/audit-records.js';
import { RATE_LIMITED_BODY } from './guard-chain.js';
import { headerRef, JSON_TYPE, schemaRef, TEXT_TYPE, type Header, type Response, type Schema } from './openapi-parts.js';

// `components` of the OpenAPI document: the wire shapes (shared/wire-format.ts, the audit route,
// the SSE wire), headers and the responses several routes share (parameters: openapi-parameters.ts).

const DATE_TIME = { type: 'string', format: 'date-time' };
const BASE64 = { type: 'string', contentEncoding: 'base64', pattern: '^[A-Za-z0-9+/]*={0,2}$' };
const REVISION = { type: 'integer', format: 'int64', minimum: 0 };

const KEY_INFO_PROPERTIES: Record<string, Schema> = {
  key: { type: 'string', description: 'The normalised key.' },
  size: { type: 'integer', minimum: 0, description: 'Bytes of the stored value (ciphertext for secrets, the whole `$ZK$…` string for zero-knowledge values).' },
  format: { $ref: '#/components/schemas/Format' },
  secret: { type: 'boolean', description: 'The key has a `secrets` path segment (stored encrypted with `--secrets.key`).' },
  zk_encrypted: { type: 'boolean', description: 'The stored value is a client-side `$ZK$` envelope.' },
  created_at: { ...DATE_TIME, description: 'RFC 3339, UTC, `Z` suffix, trailing zero fraction digits trimmed.' },
  updated_at: { ...DATE_TIME, description: 'As `created_at`.' },
  revision: { ...REVISION, description: 'Revision of the last write of this key (this project).' },
};

export const SCHEMAS: Record<string, Schema> = {
  Error: {
    type: 'object',
    description: 'Every JSON error: the original\'s `{"error": "..."}`, with a trailing newline.',
    required: ['error'],
    properties: { error: { type: 'string', description: 'What went wrong, for people.' } },
  },
  RevisionMismatch: {
    type: 'object',
    description: 'A conditional write lost: the key\'s current revision, 0 when it does not exist.',
    required: ['error', 'revision'],
    properties: { error: { const: 'revision mismatch' }, revision: REVISION },
  },
  Format: {
    type: 'string',
    enum: [...FORMATS],
    description: 'Value format. On writes anything else (or nothing) silently becomes `text`; the API never checks the value against it.',
  },
  KeyInfo: {
    type: 'object',
    description: 'One key of a list. Objects may gain fields: clients ignore the ones they do not know.',
    required: Object.keys(KEY_INFO_PROPERTIES),
    properties: KEY_INFO_PROPERTIES,
  },
  ExportItem: {
    type: 'object',
    description: 'One key of an export (`GET /kv/?values=true`): the list item with its value.',
    required: [...Object.keys(KEY_INFO_PROPERTIES), 'value'],
    properties: { ...KEY_INFO_PROPERTIES, value: { ...BASE64, description: 'The value (decrypted for secrets), standard base64.' } },
  },
  HistoryEntry: {
    type: 'object',
    required: ['hash', 'timestamp', 'author', 'operation', 'format', 'value'],
    properties: {
      hash: { type: 'string', description: 'The git commit (7 characters) with `--git.enabled`, else the revision as a string.' },
      timestamp: { ...DATE_TIME, description: 'RFC 3339, UTC, whole seconds.' },
      author: { type: 'string', description: 'User name, masked token (`token:abcd****`) or `stash`.' },
      operation: { type: 'string', examples: ['create', 'update', 'delete'], description: '`create`, `update` or `delete` (older git commits may say `set`).' },
      format: { $ref: '#/components/schemas/Format' },
      value: { ...BASE64, description: 'The value at that version, standard base64 (empty for a delete).' },
      revision: { ...REVISION, description: 'The revision of that version (absent for git commits older than this project).' },
    },
  },
  BatchWrite: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'value'],
    properties: {
      key: { type: 'string' },
      value: { type: 'string', description: 'The value: text, or standard base64 with `"encoding": "base64"`.' },
      format: { $ref: '#/components/schemas/Format' },
      encoding: { type: 'string', enum: ['text', 'base64'], default: 'text' },
      delete: { const: false },
    },
  },
  BatchDelete: {
    type: 'object',
    additionalProperties: false,
    required: ['key', 'delete'],
    properties: { key: { type: 'string' }, delete: { const: true } },
  },
  BatchResult: {
    type: 'object',
    required: ['revision'],
    properties: { revision: { ...REVISION, description: 'The revision of the batch\'s last item.' } },
  },
  ChangeEvent: {
    type: 'object',
    description: 'The `data` of an `event: change` (its `id:` is the revision).',
    required: ['key', 'action', 'timestamp', 'revision'],
    properties: {
      key: { type: 'string' },
      action: { type: 'string', enum: ['create', 'update', 'delete'] },
      timestamp: { ...DATE_TIME, description: 'UTC, whole seconds.' },
      revision: REVISION,
      format: { $ref: '#/components/schemas/Format', description: 'For create and update.' },
      actor: { type: 'string', description: 'Who wrote it, when known: a user name or a masked token.' },
    },
  },
  ResetEvent: {
    type: 'object',
    description: 'The `data` of an `event: reset`: the change log no longer reaches back to the resume point; re-list, then go on from `revision`.',
    required: ['revision'],
    properties: { revision: REVISION },
  },
  AuditQuery: {
    type: 'object',
    description: 'Every filter is optional; `null` and `""` mean no filter; unknown fields are ignored.',
    properties: {
      key: { type: ['string', 'null'], description: 'Exact key, or a prefix when it ends in `*`.' },
      actor: { type: ['string', 'null'] },
      actor_type: { enum: [...ACTOR_TYPES, '', null] },
      action: { enum: [...AUDIT_ACTIONS, '', null] },
      result: { enum: [...AUDIT_RESULTS, '', null] },
      from: { type: ['string', 'null'], description: 'RFC 3339 with an offset, inclusive.' },
      to: { type: ['string', 'null'], description: 'RFC 3339 with an offset, inclusive.' },
      limit: { type: ['integer', 'null'], description: '0, negative or above `--audit.query-limit` means the query limit.' },
    },
  },
  AuditEntry: {
    type: 'object',
    required: ['id', 'timestamp', 'action', 'key', 'actor', 'actor_type', 'result'],
    properties: {
      id: { type: 'integer' },
      timestamp: DATE_TIME,
      action: { type: 'string', enum: [...AUDIT_ACTIONS] },
      key: { type: 'string' },
      actor: { type: 'string' },
      actor_type: { type: 'string', enum: [...ACTOR_TYPES] },
      result: { type: 'string', enum: [...AUDIT_RESULTS] },
      ip: { type: 'string' },
      user_agent: { type: 'string' },
      value_size: { type: 'integer', minimum: 0 },
      request_id: { type: 'string' },
    },
  },
  AuditAnswer: {
    type: 'object',
    required: ['entries', 'total', 'limit'],
    properties: {
      entries: { type: 'array', items: schemaRef('AuditEntry'), description: 'Newest first.' },
      total: { type: 'integer', minimum: 0, description: 'Matching entries before the limit.' },
      limit: { type: 'integer', minimum: 1 },
    },
  },
};

export const HEADERS: Record<string, Header> = {
  ETag: { description: 'The key\'s revision as an entity tag: `"N"`.', required: true, schema: { type: 'string', pattern: '^"[0-9]+"$' } },
  XStashRevision: { description: 'The revision N, as a number.', required: true, schema: REVISION },
  Location: { description: 'Where to go.', required: true, schema: { type: 'string' } },
  RetryAfter: { description: 'Seconds to wait before trying again.', schema: { type: 'integer', minimum: 0 } },
  ContentSecurityPolicy: { description: '`sandbox`: a value opened in a browser cannot run script.', required: true, schema: { const: 'sandbox' } },
  NoSniff: { description: '`nosniff`.', required: true, schema: { const: 'nosniff' } },
};

const rateLimitHeader = (description: string): Header => ({ description, schema: { type: 'string' } });

export const RESPONSES: Record<string, Response> = {
  RateLimited: {
    description: 'More than `--limits.requests-per-sec` requests from this client IP (token bucket, burst the same).',
    headers: {
      'X-Rate-Limit-Limit': rateLimitHeader('The rate, e.g. `100.00`.'),
      'X-Rate-Limit-Duration': rateLimitHeader('`1` (second).'),
      'RateLimit-Limit': rateLimitHeader('The rate, whole.'),
      'RateLimit-Remaining': rateLimitHeader('Requests left in this second.'),
      'RateLimit-Reset': rateLimitHeader('`1`.'),
    },
    content: { [TEXT_TYPE]: { schema: { type: 'string', const: RATE_LIMITED_BODY } } },
  },
  Unavailable: {
    description:
      'The database is unreachable (`{"error":"database unavailable"}`, `Retry-After: 1`), or more than ' +
      '`--limits.max-concurrent` requests are in flight (empty body).',
    headers: { 'Retry-After': headerRef('RetryAfter') },
    content: { [JSON_TYPE]: { schema: schemaRef('Error') } },
    'x-stash-may-be-empty': true,
  },
  TooLarge: { description: 'The body (or its `Content-Length`) is over `--limits.body-size`; empty body.' },
  ServerError: {
    description: 'An unexpected failure (logged with the request id).',
    content: { [JSON_TYPE]: { schema: schemaRef('Error') } },
  },
  StorageFull: {
    description: 'The database\'s disk is full: `{"error":"insufficient storage"}`; nothing was written.',
    content: { [JSON_TYPE]: { schema: schemaRef('Error') } },
  },
  LoginRedirect: {
    description: 'Auth is on and there is no valid session: to the login page (or, for the theme switch, back to the page).',
    headers: { Location: headerRef('Location') },
  },
  HxLoginRedirect: {
    description: 'Auth is on, no valid session, and the request came from htmx (`HX-Request: true`): `HX-Redirect` names the login page.',
    headers: { 'HX-Redirect': { description: 'The login page.', required: true, schema: { type: 'string' } } },
  },
};
