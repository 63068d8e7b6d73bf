import { FORMAT_CONTENT_TYPES } from '@stash/client/core';
import {
  API_SECURITY,
  headerRef,
  json,
  jsonError,
  NO_CREDENTIALS,
  NOT_ALLOWED,
  NOT_ALLOWED_OR_CROSS_ORIGIN,
  op,
  paramRef,
  plain,
  responseRef,
  schemaRef,
  TEXT_TYPE,
  type MediaType,
  type Operation,
  type Paths,
  type Response,
} from './openapi-parts.js';

// `/kv` in the OpenAPI document: the original's routes (compat 5) and this project's additions
// (extensions 2-4). The handlers are kv-key-handlers.ts, kv-collection-handlers.ts and
// events/subscribe-handler.ts.

const REVISION_HEADERS = { ETag: headerRef('ETag'), 'X-Stash-Revision': headerRef('XStashRevision') };

// one media type per Content-Type a stored format answers with (compat 5.1); every stored format is one of the eight
const VALUE_TYPES = [...new Set(Object.values(FORMAT_CONTENT_TYPES))];
const RAW_VALUE: MediaType = { schema: { description: 'The stored bytes, exactly as written (decrypted for secrets, `$ZK$` values untouched).' } };

const KEY_ERRORS = {
  '400': jsonError('`key is required`; `secrets not configured` (a secret key without `--secrets.key`); a malformed parameter or header.'),
  '401': NO_CREDENTIALS,
};

const WRITE_FAILURES = {
  '412': json('`If-Match`, `If-None-Match` or `cas` did not hold: nothing was written.', schemaRef('RevisionMismatch'), {
    'X-Stash-Revision': { description: 'The key\'s current revision (0: it does not exist).', required: true, schema: { type: 'integer', minimum: 0 } },
  }),
  '413': responseRef('TooLarge'),
  '500': responseRef('ServerError'),
  '507': responseRef('StorageFull'),
};

const getKey: Operation = op({
  operationId: 'getKey',
  summary: 'Read a value',
  description:
    'The raw value, with `Content-Type` from its format. A GET whose path ends in `/ping` is answered `pong` before routing ' +
    '(the original\'s quirk); so is a key named `history/...` or `subscribe/...` sent with literal slashes: send `%2F` to read those.',
  tags: ['kv'],
  security: API_SECURITY,
  parameters: [paramRef('Revision'), paramRef('Consistency'), paramRef('IfNoneMatchRead')],
  responses: {
    '200': {
      description: 'The value.',
      headers: { ...REVISION_HEADERS, 'Content-Security-Policy': headerRef('ContentSecurityPolicy'), 'X-Content-Type-Options': headerRef('NoSniff') },
      content: Object.fromEntries(VALUE_TYPES.map((type) => [type, RAW_VALUE])),
    },
    '304': { description: '`If-None-Match` names the current revision.', headers: REVISION_HEADERS },
    ...KEY_ERRORS,
    '403': NOT_ALLOWED,
    '404': jsonError('`key not found` (or not at that revision).'),
    '500': responseRef('ServerError'),
  },
});

const putKey: Operation = op({
  operationId: 'putKey',
  summary: 'Create or update a value',
  description: 'The body is stored as sent (any bytes, may be empty); the request\'s `Content-Type` is ignored.',
  tags: ['kv'],
  security: API_SECURITY,
  parameters: [paramRef('XStashFormat'), paramRef('Format'), paramRef('IfMatch'), paramRef('IfNoneMatchWrite'), paramRef('Cas')],
  requestBody: {
    required: false,
    content: {
      'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
      [TEXT_TYPE]: { schema: { type: 'string' } },
    },
  },
  responses: {
    '200': { description: 'Updated; empty body.', headers: REVISION_HEADERS },
    '201': { description: 'Created; empty body.', headers: REVISION_HEADERS },
    ...KEY_ERRORS,
    '400': jsonError('As for reads, plus `invalid ZK payload` (a malformed `$ZK$` value for a secret key) and malformed conditions.'),
    '403': NOT_ALLOWED_OR_CROSS_ORIGIN,
    ...WRITE_FAILURES,
  },
});

const deleteKey: Operation = op({
  operationId: 'deleteKey',
  summary: 'Delete a key',
  description: 'Deleting a secret key does not need `--secrets.key`.',
  tags: ['kv'],
  security: API_SECURITY,
  parameters: [paramRef('IfMatch'), paramRef('Cas')],
  responses: {
    '204': { description: 'Deleted; the headers carry the revision of the delete.', headers: REVISION_HEADERS },
    ...KEY_ERRORS,
    '403': NOT_ALLOWED_OR_CROSS_ORIGIN,
    '404': jsonError('`key not found`.'),
    ...WRITE_FAILURES,
  },
});

const listKeys: Operation = op({
  operationId: 'listKeys',
  summary: 'List keys, or export them with their values',
  description:
    'Keys the caller may read, newest write first; `[]` when none (the original answered `null`, or 401 for a caller ' +
    'who may read nothing). With `values=true`, every item carries its value and all are read at the revision in ' +
    '`X-Stash-Revision` (secrets are left out without `--secrets.key`).',
  tags: ['kv'],
  security: API_SECURITY,
  parameters: [paramRef('Prefix'), paramRef('Filter'), paramRef('Values')],
  responses: {
    '200': json(
      'The keys (`KeyInfo`), or with `values=true` the export (`ExportItem`).',
      { anyOf: [{ type: 'array', items: schemaRef('KeyInfo') }, { type: 'array', items: schemaRef('ExportItem') }] },
      { 'X-Stash-Revision': { description: 'With `values=true`: the revision every value was read at.', schema: { type: 'integer', minimum: 0 } } },
    ),
    '400': jsonError('`invalid filter parameter`.'),
    '401': NO_CREDENTIALS,
    '500': responseRef('ServerError'),
  },
});

const batchWrite: Operation = op({
  operationId: 'batchWrite',
  summary: 'Write several keys in one transaction',
  description:
    'Every item applies, or none (one revision each, in order). Each key needs the write permission a single write ' +
    'needs; one refused key refuses the batch. Keys are normalised as in the path; a key may appear once.',
  tags: ['kv'],
  security: API_SECURITY,
  requestBody: {
    required: true,
    content: {
      'application/json': {
        schema: { type: 'array', minItems: 1, items: { oneOf: [schemaRef('BatchWrite'), schemaRef('BatchDelete')] } },
      },
    },
  },
  responses: {
    '200': json('Applied.', schemaRef('BatchResult'), { 'X-Stash-Revision': headerRef('XStashRevision') }),
    '400': jsonError('`invalid batch…`: not a JSON array, empty, an unknown field, a bad format, encoding or base64, a duplicate key; `secrets not configured`.'),
    '401': NO_CREDENTIALS,
    '403': NOT_ALLOWED_OR_CROSS_ORIGIN,
    '404': jsonError('`key not found`: an item deletes a key that does not exist; nothing was written.'),
    '413': responseRef('TooLarge'),
    '500': responseRef('ServerError'),
    '507': responseRef('StorageFull'),
  },
});

const keyHistory: Operation = op({
  operationId: 'keyHistory',
  summary: 'Versions of a key',
  description:
    'Newest first, from the change log (without git) or from the git mirror (`--git.enabled`). Kept for ' +
    '`--history.retention`, and always the last 10 versions of each key. `[]` for a key that never existed.',
  tags: ['kv'],
  security: API_SECURITY,
  parameters: [paramRef('HistoryLimit')],
  responses: {
    '200': json('The versions.', { type: 'array', items: schemaRef('HistoryEntry') }),
    ...KEY_ERRORS,
    '400': jsonError('`key is required`, `invalid limit parameter`, `secrets not configured`.'),
    '403': NOT_ALLOWED,
    '500': responseRef('ServerError'),
  },
});

const STREAM_MEDIA: MediaType = {
  schema: {
    type: 'string',
    description:
      'Server-Sent Events, LF line endings: `id: N`, `event: change` (or `reset`), one line of JSON `data`, a blank line; ' +
      '`: ping` comments every `--sse.heartbeat`.',
  },
  'x-stash-events': { change: schemaRef('ChangeEvent'), reset: schemaRef('ResetEvent') },
};

const subscribe: Operation = op({
  operationId: 'subscribe',
  summary: 'Stream changes (Server-Sent Events)',
  description:
    '`*`: every key; `p/*` or `p/`: every key under `p/` (not `p` itself); anything else: one key. Events come in revision ' +
    'order; each is checked against the caller\'s credentials when it is sent, and skipped if the caller may not read ' +
    'the key. A subscriber whose queue (`--sse.buffer`) fills is disconnected and resumes with `Last-Event-ID`.',
  tags: ['streams'],
  security: API_SECURITY,
  parameters: [paramRef('LastEventId'), paramRef('Since')],
  responses: {
    '200': {
      description: 'The stream; headers are sent at once.',
      headers: { 'X-Stash-Revision': { description: 'The revision the stream starts after.', required: true, schema: { type: 'integer', minimum: 0 } } },
      content: { 'text/event-stream': STREAM_MEDIA },
    },
    '400': plain('`key path required` (nothing after `/kv/subscribe/`), or a malformed escape.', ['key path required\n', 'invalid URL escape\n']),
    '401': NO_CREDENTIALS,
    '403': plain('An exact key the caller may not read (prefix and `*` streams skip such events instead).', ['access denied\n']),
    '500': plain('Unexpected failure before the stream began.', ['Internal Server Error\n']),
    '503': {
      description: 'The server is shutting down, the database is unreachable, or too many requests are in flight (empty).',
      content: { [TEXT_TYPE]: { schema: { const: 'server is shutting down\n' } }, 'application/json': { schema: schemaRef('Error') } },
      'x-stash-may-be-empty': true,
    },
  },
});

const toKvRoot = (method: string): Operation =>
  op({
    operationId: `kvRedirect${method}`,
    summary: 'Redirect to `/kv/`',
    description: 'Go\'s mux answers `/kv` with a 301 to `/kv/` (the query string is kept).',
    tags: ['kv'],
    security: [],
    responses: {
      '301': {
        description: method === 'Get' ? 'To `/kv/`, with Go\'s little HTML link.' : 'To `/kv/`; empty body.',
        headers: { Location: headerRef('Location') },
        ...(method === 'Get' ? { content: { 'text/html': { schema: { type: 'string' } } } } : {}),
      } satisfies Response,
    },
  });

export const KV_PATHS: Paths = {
  '/kv/': { get: listKeys, post: batchWrite },
  '/kv/{key}': { parameters: [paramRef('Key')], get: getKey, put: putKey, delete: deleteKey },
  '/kv/history/{key}': { parameters: [paramRef('Key')], get: keyHistory },
  '/kv/subscribe/{path}': {
    parameters: [
      {
        name: 'path',
        in: 'path',
        required: true,
        description: '`*` (or `%2A`), `prefix/*`, `prefix/`, or a key.',
        schema: { type: 'string', minLength: 1, examples: ['*', 'app/*', 'app/config'] },
      },
    ],
    get: subscribe,
  },
  '/kv': { get: toKvRoot('Get'), put: toKvRoot('Put'), post: toKvRoot('Post'), delete: toKvRoot('Delete') },
};
