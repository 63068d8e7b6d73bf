import type { Parameter, Schema } from './openapi-parts.js';

// `components.parameters` and `components.securitySchemes` of the OpenAPI document: what
// request-parsing.ts, the subscribe handler and access control read from a request.

const INTEGER = { type: 'integer', format: 'int64', minimum: 0 };

export const PARAMETERS: Record<string, Parameter> = {
  Key: {
    name: 'key',
    in: 'path',
    required: true,
    description:
      'The key. Slashes may be sent literally or as `%2F`; every segment is percent-decoded, then the key is normalised ' +
      '(surrounding whitespace and slashes trimmed, spaces become `_`). Empty after that: 400 `key is required`.',
    schema: { type: 'string', minLength: 1 },
  },
  IfMatch: {
    name: 'If-Match',
    in: 'header',
    description: 'Write only if the key is at this revision: `"N"` (also `W/"N"` or bare `N`). `*` is refused (400).',
    schema: { type: 'string', examples: ['"7"'] },
  },
  IfNoneMatchWrite: {
    name: 'If-None-Match',
    in: 'header',
    description: 'Only `*`: create only if the key does not exist.',
    schema: { const: '*' },
  },
  Cas: {
    name: 'cas',
    in: 'query',
    description: 'The same as `If-Match: "N"`; `0` is the same as `If-None-Match: *`. Headers win.',
    schema: INTEGER,
  },
  Format: {
    name: 'format',
    in: 'query',
    description: 'Format when `X-Stash-Format` is absent or empty (the Rust SDK sends it here).',
    schema: { type: 'string' },
  },
  XStashFormat: {
    name: 'X-Stash-Format',
    in: 'header',
    description: 'The value\'s format; anything but the eight names is stored as `text`.',
    schema: { type: 'string', examples: ['json'] },
  },
  Revision: {
    name: 'revision',
    in: 'query',
    description: 'Read the value as of this revision (404 when the change log no longer holds it).',
    schema: INTEGER,
  },
  Consistency: {
    name: 'consistency',
    in: 'query',
    description:
      '`linearizable` (default): the latest acknowledged write, on any server. `serializable`: may answer from this ' +
      'server\'s memory, at most the staleness `stash_read_staleness_seconds` reports.',
    schema: { type: 'string', enum: ['linearizable', 'serializable'] },
  },
  IfNoneMatchRead: {
    name: 'If-None-Match',
    in: 'header',
    description: 'Entity tags the client has (`"N"`, a list, or `*`): 304 when one names the current revision.',
    schema: { type: 'string', examples: ['"7"'] },
  },
  Prefix: {
    name: 'prefix',
    in: 'query',
    description: 'Only keys starting with this (plain string prefix, no wildcards; empty means all).',
    schema: { type: 'string' },
  },
  Filter: {
    name: 'filter',
    in: 'query',
    description:
      'Case-insensitive: `all` (default); `secrets` (also `secretsonly`, `true`); `keys` (also `keysonly`, `false`). ' +
      'Anything else: 400 `invalid filter parameter`.',
    schema: { type: 'string', examples: ['all', 'secrets', 'keys'] },
  },
  Values: {
    name: 'values',
    in: 'query',
    description: '`true` (also `1`, `yes`, `t`): export, every item with its value, all read at one revision.',
    schema: { type: 'string', examples: ['true'] },
  },
  HistoryLimit: {
    name: 'limit',
    in: 'query',
    description: 'Versions to return (default 50, at most 1000); 0 or not a number: 400.',
    schema: { type: 'integer', minimum: 1, default: 50 },
  },
  LastEventId: {
    name: 'Last-Event-ID',
    in: 'header',
    description:
      'Resume after this revision (what `EventSource` sends on a reconnect): every matching change after it is replayed ' +
      'first. Not a plain number, or beyond the newest revision: the stream starts live. Wins over `since`.',
    schema: { type: 'string', examples: ['42'] },
  },
  Since: {
    name: 'since',
    in: 'query',
    description: 'The same as `Last-Event-ID`, from a URL.',
    schema: { type: 'string', examples: ['42'] },
  },
};

export const SECURITY_SCHEMES: Record<string, Schema> = {
  bearerToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'An API token of the auth file (`--auth.file`): `Authorization: Bearer <token>`. Basic auth is not accepted.',
  },
  authToken: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Auth-Token',
    description: 'The same token in `X-Auth-Token` (checked before `Authorization`).',
  },
  sessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: 'stash-auth',
    description: 'The web session `POST /login` sets (over plain HTTP, or with a base URL).',
  },
  hostSessionCookie: {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-stash-auth',
    description: 'The web session `POST /login` sets over HTTPS without a base URL.',
  },
  metricsToken: {
    type: 'http',
    scheme: 'bearer',
    description: '`--metrics.token`, when set: `Authorization: Bearer <metrics token>`.',
  },
};
