import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { openStream } from './sse-helpers.js';

const ACL = fileURLToPath(new URL('../fixtures/auth-acl.yml', import.meta.url));
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer(['--auth.file', ACL, '--server.shutdown-timeout', '300ms']);
});
afterAll(async () => {
  await server.close();
});

const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
async function write(key: string): Promise<void> {
  const res = await fetch(`${server.url}/kv/${key}`, { method: 'PUT', body: 'v', headers: bearer('rw-token-1234') });
  expect(res.status).toBeLessThan(300);
}

describe('change streams with access control (compat 5.6)', () => {
  it('checks every event against the connection credentials, silently skipping unreadable keys', async () => {
    const app = await openStream(`${server.url}/kv/subscribe/*`, bearer('app-token-abcd'));
    const anonymous = await openStream(`${server.url}/kv/subscribe/*`); // the public `*` token: public/* only
    expect([app.status, anonymous.status]).toEqual([200, 200]);
    for (const key of ['other/x', 'app/x', 'public/y', 'app/locked/z', 'zzz']) await write(key);
    await app.waitFor((x) => x.changes().length >= 2);
    await anonymous.waitFor((x) => x.changes().length >= 1);
    await write('app/last');
    await write('public/last');
    await app.waitFor((x) => x.changes().some((c) => c.key === 'app/last'));
    await anonymous.waitFor((x) => x.changes().some((c) => c.key === 'public/last'));
    await app.waitFor((x) => x.changes().some((c) => c.key === 'public/last'));
    // the token's own grants plus the public `*` grant that applies to every caller
    expect(app.changes().map((c) => c.key)).toEqual(['app/x', 'public/y', 'app/locked/z', 'app/last', 'public/last']);
    expect(anonymous.changes().map((c) => c.key)).toEqual(['public/y', 'public/last']);
    app.close();
    anonymous.close();
  });

  it('answers 403 access denied (plain text) for an exact key the caller cannot read', async () => {
    const res = await fetch(`${server.url}/kv/subscribe/other/x`, { headers: bearer('app-token-abcd') });
    expect(res.status).toBe(403);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('access denied\n');
    const ok = await openStream(`${server.url}/kv/subscribe/app/x`, bearer('app-token-abcd'));
    expect(ok.status).toBe(200);
    ok.close();
  });

  it('applies the permission check to replayed events too', async () => {
    const s = await openStream(`${server.url}/kv/subscribe/*?since=0`, bearer('app-token-abcd'));
    await s.waitFor((x) => x.changes().some((c) => c.key === 'public/last'));
    expect(s.changes().map((c) => c.key)).toEqual(['app/x', 'public/y', 'app/locked/z', 'app/last', 'public/last']);
    s.close();
  });
});
