import {
  API_SECURITY,
  CROSS_ORIGIN,
  headerRef,
  html,
  HTML_TYPE,
  json,
  JSON_TYPE,
  op,
  plain,
  PUBLIC,
  responseRef,
  schemaRef,
  TEXT_TYPE,
  UNAUTHORIZED,
  type Paths,
} from './openapi-parts.js';

// The routes around the key-value API: health, metrics, this document, the audit query and
// the web login (guard-chain.ts, metrics-route.ts, openapi-route.ts, audit/audit-query-route.ts,
// auth/login-routes.ts).

const FORM = 'application/x-www-form-urlencoded';

const ping = op({
  operationId: 'ping',
  summary: 'Health check',
  description: 'Answered before routing, without auth, for any GET whose path ends in `/ping` (case-insensitive).',
  tags: ['service'],
  security: PUBLIC,
  responses: { '200': { description: 'Alive.', content: { [TEXT_TYPE]: { schema: { const: 'pong' } } } } },
});

const metrics = op({
  operationId: 'metrics',
  summary: 'Prometheus metrics',
  description: 'Prometheus text format (docs/metrics.md). Registered with `--metrics.enabled` (default on).',
  tags: ['service'],
  security: [{}, { metricsToken: [] }],
  responses: {
    '200': { description: 'The metrics.', content: { [TEXT_TYPE]: { schema: { type: 'string' } } } },
    '401': plain('`--metrics.token` is set and the request does not carry it.', [UNAUTHORIZED]),
  },
});

const openapi = op({
  operationId: 'openapi',
  summary: 'This document',
  description:
    'OpenAPI 3.1, public (it describes routes, not data). `servers` names the base URL (`--server.base-url`). ' +
    'Cacheable; revalidate with `If-None-Match`.',
  tags: ['service'],
  security: PUBLIC,
  parameters: [{ name: 'If-None-Match', in: 'header', description: 'The `ETag` the client has.', schema: { type: 'string' } }],
  responses: {
    '200': json('The document.', {
      type: 'object',
      required: ['openapi', 'info', 'paths'],
      properties: { openapi: { type: 'string', pattern: '^3\\.1\\.' }, info: { type: 'object' }, paths: { type: 'object' } },
      additionalProperties: true,
    }, {
      ETag: { description: 'Of this document\'s bytes.', required: true, schema: { type: 'string' } },
      'Cache-Control': { description: 'How long caches keep it.', required: true, schema: { type: 'string' } },
    }),
    '304': { description: 'Unchanged since the `ETag` sent in `If-None-Match`.', headers: { ETag: { description: 'Of the document.', required: true, schema: { type: 'string' } } } },
  },
});

const auditQuery = op({
  operationId: 'auditQuery',
  summary: 'Query the audit log',
  description: 'With `--audit.enabled`. Admins only (`admin: true` on a user with a session, or on a token).',
  tags: ['audit'],
  security: API_SECURITY.slice(1),
  requestBody: { required: true, content: { [JSON_TYPE]: { schema: schemaRef('AuditQuery') } } },
  responses: {
    '200': json('Matching entries, newest first.', schemaRef('AuditAnswer')),
    '400': {
      description: '`invalid request body` (not a JSON object, a field of the wrong type); `invalid query parameters` (unknown enum value, bad time).',
      content: { [JSON_TYPE]: { schema: schemaRef('Error') } },
    },
    '401': { description: '`unauthorized`: anonymous, or auth is off.', content: { [JSON_TYPE]: { schema: schemaRef('Error') } } },
    '403': {
      description: '`admin access required`, or a cross-origin browser request (plain text).',
      content: { [JSON_TYPE]: { schema: schemaRef('Error') }, [TEXT_TYPE]: { schema: { enum: CROSS_ORIGIN } } },
    },
    '413': responseRef('TooLarge'),
    '500': responseRef('ServerError'),
  },
});

const loginPage = op({
  operationId: 'loginPage',
  summary: 'The login form',
  description: 'With `--auth.file`.',
  tags: ['auth'],
  security: PUBLIC,
  responses: { '200': html('The form.') },
});

const login = op({
  operationId: 'login',
  summary: 'Sign in to the web UI',
  description:
    'With `--auth.file`. Failed attempts slow down per client IP; at most `--limits.login-concurrency` run at once. ' +
    'The session lasts `--auth.login-ttl`; the cookie is `HttpOnly`, `SameSite=Strict`, `Secure` over HTTPS.',
  tags: ['auth'],
  security: PUBLIC,
  requestBody: {
    required: true,
    content: {
      [FORM]: {
        schema: { type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } },
      },
    },
  },
  responses: {
    '303': {
      description: 'Signed in: to the UI, with the session cookie (`__Host-stash-auth` over HTTPS without a base URL, else `stash-auth`).',
      headers: {
        Location: headerRef('Location'),
        'Set-Cookie': { description: 'The session.', required: true, schema: { type: 'string' } },
      },
    },
    '401': html('Missing fields, or a wrong user name or password: the form again with the error.'),
    '403': plain('A cross-origin browser request.', CROSS_ORIGIN),
    '413': responseRef('TooLarge'),
    '429': {
      description: 'Too many failed attempts from this IP (the form, with `Retry-After`), or the global rate limit (plain text).',
      headers: { 'Retry-After': headerRef('RetryAfter') },
      content: { [HTML_TYPE]: { schema: { type: 'string' } }, [TEXT_TYPE]: { schema: { type: 'string' } } },
    },
    '503': {
      description: 'More than `--limits.login-concurrency` logins at once, or the global limits; empty body.',
      'x-stash-may-be-empty': true,
    },
  },
});

const logout = op({
  operationId: 'logout',
  summary: 'Sign out',
  description: 'With `--auth.file`. Ends the session(s) the cookies name, here and on every server sharing the database.',
  tags: ['auth'],
  security: PUBLIC,
  responses: {
    '303': {
      description: 'To the login page; both session cookies expired, `HX-Refresh: true`.',
      headers: {
        Location: headerRef('Location'),
        'Set-Cookie': { description: 'Both session cookies, expired.', required: true, schema: { type: 'string' } },
        'HX-Refresh': { description: '`true`.', required: true, schema: { const: 'true' } },
      },
    },
    '403': plain('A cross-origin browser request.', CROSS_ORIGIN),
  },
});

export const SERVICE_PATHS: Paths = {
  '/ping': { get: ping },
  '/metrics': { get: metrics },
  '/openapi.json': { get: openapi },
  '/audit/query': { post: auditQuery },
  '/login': { get: loginPage, post: login },
  '/logout': { post: logout },
};
