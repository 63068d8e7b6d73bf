import { HEADERS, RESPONSES, SCHEMAS } from './openapi-components.js';
import { PARAMETERS, SECURITY_SCHEMES } from './openapi-parameters.js';
import { KV_PATHS } from './openapi-kv.js';
import type { Paths } from './openapi-parts.js';
import { SERVICE_PATHS } from './openapi-service.js';
import { WEB_PATHS } from './openapi-web.js';

/**
 * The version of the HTTP API this document describes (the original's wire protocol plus this
 * project's additions), not of the server build: `App-Version` says that. Raise it when the
 * wire changes.
 */
export const API_VERSION = '1.0.0';

const DESCRIPTION = `A key-value configuration service, wire-compatible with umputun/stash: every official client
(Go, Python, TypeScript, Java, Rust) works unchanged. This project adds revisions and compare-and-swap,
batches, history and point-in-time reads without git, an export, lossless change streams, metrics and
an audit query. Reference with examples: docs/http-api.md.

Every response carries \`X-Request-ID\` (the client's, or 40 hex digits), \`App-Name: stash\` and
\`App-Version\`, and with rate limiting the \`X-Rate-Limit-*\` / \`RateLimit-*\` headers. JSON errors are
\`{"error": "..."}\`; the auth checks answer plain \`Unauthorized\` / \`Forbidden\` as the original does.
GET routes also answer HEAD. Another method on a known path is 405 with \`Allow\`; an unclean path
(\`//\`, \`/./\`, \`/../\`) is a 301 to the clean one; an unknown path is 404 \`404 page not found\`.
With \`--auth.file\` unset everything is open; with it, see the security schemes.`;

const TAGS = [
  { name: 'kv', description: 'Keys and values (the original\'s API, with revisions, conditions, batches, history and export).' },
  { name: 'streams', description: 'Change notifications as Server-Sent Events.' },
  { name: 'audit', description: 'The audit log (`--audit.enabled`).' },
  { name: 'auth', description: 'Web login and sessions (`--auth.file`).' },
  { name: 'service', description: 'Health, metrics and this document.' },
  { name: 'web', description: 'The web UI (HTML and htmx fragments): listed so that every route is known, not for generated clients.' },
];

/** The whole document; `servers` names the base URL (`--server.base-url`, '' for none). */
export function buildOpenApiDocument(baseUrl: string): Record<string, unknown> {
  const paths: Paths = { ...KV_PATHS, ...SERVICE_PATHS, ...WEB_PATHS };
  return {
    openapi: '3.1.0',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: 'Stash HTTP API',
      version: API_VERSION,
      description: DESCRIPTION,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: baseUrl === '' ? '/' : baseUrl, description: 'This server (relative to where the document was fetched).' }],
    tags: TAGS,
    paths,
    components: {
      schemas: SCHEMAS,
      responses: RESPONSES,
      parameters: PARAMETERS,
      headers: HEADERS,
      securitySchemes: SECURITY_SCHEMES,
    },
  };
}

/** The document as served and as kept in the repository (packages/server/openapi.json). */
export function openApiJson(baseUrl: string): string {
  return `${JSON.stringify(buildOpenApiDocument(baseUrl), null, 2)}\n`;
}
