import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument, openApiJson } from '../../src/http/openapi.js';
import { loginCookie } from '../auth/login-helpers.js';
import { OPENAPI_FILE, OpenApiChecker, type Method } from '../helpers/openapi-check.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const AUTH_FILE = join(import.meta.dirname, '..', 'fixtures', 'audit-auth.yml');
const REGENERATE = 'run `npx tsc -b && node packages/server/scripts/write-openapi.mjs`';

/** Routes answered by the global guards before routing (request-guards.ts), so fastify does not know them. */
const ANSWERED_BEFORE_ROUTING = ['get /ping'];
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'];

/** `{method, url}` of every route fastify registered, from its radix tree as printRoutes draws it. */
function registeredRoutes(app: FastifyInstance): Array<{ url: string; methods: string[] }> {
  const out: Array<{ url: string; methods: string[] }> = [];
  const stack: string[] = [];
  for (const line of app.printRoutes().split('\n')) {
    const at = line.indexOf('── ');
    if (at === -1) continue;
    const depth = (at - 1) / 4;
    const m = /^(.*?)(?: \(([^)]*)\))?$/.exec(line.slice(at + 3));
    stack.length = depth;
    stack.push(m?.[1] ?? '');
    if (m?.[2]) out.push({ url: stack.join(''), methods: m[2].split(', ') });
  }
  return out;
}

/** The registered pattern a concrete path reaches: a static route first, else the longest wildcard. */
function patternOf(path: string, patterns: string[]): string | undefined {
  if (patterns.includes(path)) return path;
  return patterns
    .filter((p) => p.endsWith('*') && path.startsWith(p.slice(0, -1)))
    .sort((a, b) => b.length - a.length)[0];
}

const sample = (template: string): string => template.replace(/\{[^}]+\}/g, 'sample');

/** The documented path a concrete path belongs to: the matching template with the most literal characters. */
function templateOf(path: string, templates: string[]): string | undefined {
  const matching = templates.filter((t) => new RegExp(`^${t.split(/\{[^}]+\}/).map((part) => part.replace(/[.*+?^$()|[\]\\]/g, '\\$&')).join('.+')}$`).test(path));
  return matching.sort((a, b) => b.replace(/\{[^}]+\}/g, '').length - a.replace(/\{[^}]+\}/g, '').length)[0];
}

/**
 * The web UI routes one fastify wildcard (`/web/*`) and dispatches inside (web-routes.ts):
 * every path-like string literal of that file is a candidate page, probed below.
 */
function webCandidates(): string[] {
  const source = readFileSync(join(import.meta.dirname, '..', '..', 'src', 'web', 'web-routes.ts'), 'utf8');
  const literals = new Set([...source.matchAll(/'([a-z][a-z0-9/-]*)'/g)].map((m) => m[1] as string));
  return [...literals].flatMap((lit) => (lit.endsWith('/') ? [`/web/${lit}sample`] : [`/web/${lit}`, `/web/keys/${lit}`]));
}

describe('the OpenAPI document', () => {
  let server: TestServer;
  let based: TestServer;
  let checker: OpenApiChecker;

  beforeAll(async () => {
    server = await startTestServer(['--auth.file', AUTH_FILE, '--audit.enabled', '--secrets.key', 'openapi-test-secret-key']);
    based = await startTestServer(['--server.base-url', '/stash']);
    checker = new OpenApiChecker();
  });
  afterAll(async () => {
    await server?.close();
    await based?.close();
  });

  it('is served as the repository holds it, without credentials, cacheable', async () => {
    const res = await checker.fetch('get', '/openapi.json', `${server.url}/openapi.json`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/);
    expect(res.text === readFileSync(OPENAPI_FILE, 'utf8'), `packages/server/openapi.json is stale: ${REGENERATE}`).toBe(true);
    expect(res.text).toBe(openApiJson(''));

    const again = await checker.fetch('get', '/openapi.json', `${server.url}/openapi.json`, { headers: { 'if-none-match': res.headers.get('etag') ?? '' } });
    expect(again.status).toBe(304);
    const post = await fetch(`${server.url}/openapi.json`, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
  });

  it('names the base URL in servers and is otherwise the same', async () => {
    const res = await fetch(`${based.url}/stash/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { servers: Array<{ url: string }> };
    expect(doc.servers[0]?.url).toBe('/stash');
    expect({ ...doc, servers: [] }).toEqual({ ...buildOpenApiDocument(''), servers: [] });
    expect((await fetch(`${based.url}/openapi.json`)).status).toBe(404);
  });

  it('passes swagger-parser (OpenAPI 3.1 schema, every $ref resolves)', async () => {
    await expect(SwaggerParser.validate(structuredClone(checker.doc) as never)).resolves.toBeDefined();
    // the validator must be able to fail: a broken reference and a wrong field are refused
    const broken = structuredClone(checker.doc) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    const ping = broken.paths['/ping']?.['get'];
    if (ping) ping.responses['200'] = { $ref: '#/components/responses/Nope' };
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
    await expect(SwaggerParser.validate({ ...structuredClone(checker.doc), info: { title: 'x' } } as never)).rejects.toThrow();
  });

  it('has what the 3.1 schema does not check: unique ids, declared path parameters, compiling schemas, known tags', () => {
    const ids = new Set<string>();
    const tags = new Set((checker.doc['tags'] as Array<{ name: string }>).map((t) => t.name));
    for (const { method, path, op } of checker.operations()) {
      const id = op['operationId'] as string;
      expect(ids.has(id), `operationId ${id} twice`).toBe(false);
      ids.add(id);
      for (const tag of op['tags'] as string[]) expect(tags.has(tag), `${id}: tag ${tag}`).toBe(true);
      const inPath = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = checker.parameters(method, path).filter((p) => p.in === 'path');
      expect(declared.map((p) => p.name).sort(), `${method} ${path}`).toEqual([...inPath].sort());
      for (const p of declared) expect((p as { required?: boolean }).required, `${path} {${p.name}}`).toBe(true);
      for (const [status, r] of Object.entries(op['responses'] as Record<string, unknown>)) {
        const response = checker.deref(r as Record<string, unknown>);
        for (const media of Object.values((response['content'] as Record<string, { schema: unknown }>) ?? {})) {
          expect(() => checker.validator(media.schema), `${id} ${status}`).not.toThrow();
        }
      }
    }
    for (const name of Object.keys((checker.doc['components'] as { schemas: object }).schemas)) {
      expect(() => checker.validator(name), name).not.toThrow();
    }
  });

  it('lists every route the server registers, and only those', async () => {
    const routes = registeredRoutes(server.app);
    const patterns = routes.map((r) => r.url);
    expect(patterns).toEqual(expect.arrayContaining(['/kv/*', '/audit/query', '/login', '/web/*', '/openapi.json', '/metrics']));
    const documented = checker.operations().map(({ method, path }) => ({ key: `${method} ${path}`, method: method.toUpperCase(), url: sample(path) }));

    // documented ⇒ registered
    for (const d of documented) {
      if (ANSWERED_BEFORE_ROUTING.includes(d.key)) continue;
      const pattern = patternOf(d.url, patterns);
      expect(pattern, `${d.key} reaches no registered route`).toBeDefined();
      expect(routes.find((r) => r.url === pattern)?.methods, `${d.key}: ${pattern} does not take ${d.method}`).toContain(d.method);
      expect(server.app.findRoute({ method: d.method as 'GET', url: d.url }), d.key).not.toBeNull();
    }

    // registered ⇒ documented: a method no documented path reaches must be refused there (404/405)
    const cookie = await loginCookie(server.url, 'root', 'admin-password-1');
    for (const route of routes) {
      for (const method of route.methods.filter((m) => METHODS.includes(m))) {
        if (documented.some((d) => d.method === method && patternOf(d.url, patterns) === route.url)) continue;
        const res = await server.app.inject({ method: method as 'GET', url: route.url.replace(/\*$/, ''), headers: { cookie } });
        expect([404, 405], `${method} ${route.url} answers ${res.statusCode} but is not documented`).toContain(res.statusCode);
      }
    }

    // inside /web/*: every page that answers must be documented, and answer as documented
    const candidates = webCandidates();
    expect(candidates.length).toBeGreaterThan(20);
    let pages = 0;
    for (const url of candidates) {
      for (const method of ['GET', 'POST', 'PUT', 'DELETE'] as const) {
        const res = await server.app.inject({ method, url, headers: { cookie } });
        if (res.statusCode === 404 || res.statusCode === 405) continue;
        const template = templateOf(url, checker.operations().filter((o) => o.method === method.toLowerCase()).map((o) => o.path));
        expect(template, `${method} ${url} answers ${res.statusCode} but is not documented`).toBeDefined();
        checker.expectDocumented(method.toLowerCase() as Method, template as string, { status: res.statusCode, headers: res.headers, body: res.rawPayload });
        pages++;
      }
    }
    expect(pages).toBeGreaterThan(20);

    for (const key of ANSWERED_BEFORE_ROUTING) {
      const [method, path] = key.split(' ') as [Method, string];
      expect((await checker.fetch(method, path, `${server.url}${path}`)).text).toBe('pong');
    }
  });
});
