import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import openapiTS, { astToString } from 'openapi-typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/spawned-server.js';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';

const run = promisify(execFile);

// docs/http-api.md, "Generate a client": types generated from the served document with
// openapi-typescript, a client made with openapi-fetch, type-checked strictly, run against a server
const PROGRAM = `import createClient from 'openapi-fetch';
import type { paths } from './stash-api.js';

const stash = createClient<paths>({ baseUrl: process.argv[2] });
// values are raw bytes, not JSON: send the string as it is
const text = { bodySerializer: (body: string | undefined) => body ?? '', headers: { 'Content-Type': 'text/plain' } };

const put = await stash.PUT('/kv/{key}', { params: { path: { key: 'app/db/host' } }, body: 'db.internal:5432', ...text });
await stash.PUT('/kv/{key}', { params: { path: { key: 'app/config' }, header: { 'X-Stash-Format': 'json' } }, body: '{"debug":true}', ...text });
const got = await stash.GET('/kv/{key}', { params: { path: { key: 'app/db/host' } }, parseAs: 'text' });
const listed = await stash.GET('/kv/', { params: { query: { prefix: 'app/' } } });
const missing = await stash.GET('/kv/{key}', { params: { path: { key: 'app/nothing' } }, parseAs: 'text' });
const keys = (listed.data ?? []).map((k) => ({ key: k.key, size: k.size, format: k.format, revision: k.revision }));

// the types are real, not any: each of these lines must be an error
// @ts-expect-error a query parameter the list does not have
void stash.GET('/kv/', { params: { query: { prefx: 'app/' } } });
// @ts-expect-error a size is a number
const size: string | undefined = listed.data?.[0]?.size;
// @ts-expect-error no such route
void stash.GET('/kv/no/such/{thing}', {});

console.log(JSON.stringify({ put: put.response.status, revision: put.response.headers.get('x-stash-revision'), got: got.data, keys, missing: missing.response.status, size }));
`;

describe('a client generated from the OpenAPI document (openapi-typescript + openapi-fetch)', () => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    dir = makeTempDir('stash-openapi-client-');
    mkdirSync(join(dir, 'out'));
    // the packages come from this repository's node_modules, as from any project's
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          lib: ['es2022', 'dom'],
          types: ['node'],
          outDir: 'out',
          noUnusedLocals: false,
        },
        files: ['client.ts', 'docs-example.ts', 'stash-api.d.ts'],
      }),
    );
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generates types from the served document, type-checks strictly, and talks to the server', async () => {
    // as the docs say: point the generator at a running server
    const types = astToString(await openapiTS(new URL(`${server.url}/openapi.json`)));
    expect(types).toContain('"/kv/{key}"');
    writeFileSync(join(dir, 'stash-api.d.ts'), types);
    writeFileSync(join(dir, 'client.ts'), PROGRAM);
    // the docs' own example, as written there (pointed at this server)
    const docs = readFileSync(join(ROOT, 'docs', 'http-api.md'), 'utf8');
    const example = /## Generate a client[\s\S]*?```ts\n([\s\S]*?)```/.exec(docs)?.[1];
    expect(example).toContain("createClient<paths>");
    writeFileSync(join(dir, 'docs-example.ts'), `${(example ?? '').replace("'http://localhost:8080'", 'process.argv[2]')}\nconsole.log(JSON.stringify({ keys: data?.length, value: value.data }));\n`);

    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const compiled = await run(process.execPath, [tsc, '-p', dir], { cwd: dir }).catch((e: { stdout?: string; stderr?: string }) => e);
    expect('stdout' in compiled ? `${compiled.stdout ?? ''}${compiled.stderr ?? ''}` : '').toBe('');

    const { stdout } = await run(process.execPath, [join(dir, 'out', 'client.js'), server.url], { cwd: dir });
    const result = JSON.parse(stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ put: 201, got: 'db.internal:5432', missing: 404 }); // 201: created
    expect(Number(result['revision'])).toBeGreaterThan(0);
    expect(result['keys']).toEqual([
      { key: 'app/config', size: 14, format: 'json', revision: expect.any(Number) },
      { key: 'app/db/host', size: 16, format: 'text', revision: expect.any(Number) },
    ]);
    const docsRun = await run(process.execPath, [join(dir, 'out', 'docs-example.js'), server.url], { cwd: dir });
    expect(JSON.parse(docsRun.stdout)).toEqual({ keys: 2, value: '{"debug":true}' });
  }, 60_000);
});
