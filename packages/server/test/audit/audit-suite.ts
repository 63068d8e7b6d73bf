import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditStore } from '../../src/audit/audit-runtime.js';
import type { AuditRecord } from '../../src/audit/audit-store.js';
import type { TestServer } from '../helpers/test-server.js';
import { loginCookie } from '../auth/login-helpers.js';
import {
  ADMIN,
  AUDIT_AUTH_FILE,
  WRITER,
  get,
  postQuery,
  put,
  queryAudit,
  waitForAudit,
  type AuditEntryJson,
} from './audit-helpers.js';

const brief = (e: AuditEntryJson): unknown[] => [e.action, e.key, e.result, e.value_size];

/**
 * The audit behaviour both engines must show, through a real server with the audit fixture's
 * auth file. `start` gets the audit flags and returns a server on the engine under test.
 */
export function defineAuditSuite(engine: string, start: (flags: string[]) => Promise<TestServer>): void {
  describe(`audit log on ${engine}`, () => {
    let server: TestServer;
    let url: string;
    beforeAll(async () => {
      server = await start(['--audit.enabled', '--auth.file', AUDIT_AUTH_FILE, '--audit.query-limit', '50']);
      url = server.url;
    });
    afterAll(() => server?.close());

    it('records reads, creates, updates, deletes and history reads under their key; skips lists', async () => {
      const h = { ...ADMIN, 'x-request-id': 'req-audit-1', 'user-agent': 'audit-test/1.0' };
      expect((await put(url, 'rec/a', 'hello', h)).status).toBe(201);
      expect((await put(url, 'rec/a', 'hello world', h)).status).toBe(200);
      expect(await (await get(url, 'rec/a', h)).text()).toBe('hello world');
      expect((await get(url, 'rec/missing', h)).status).toBe(404);
      const history = await (await get(url, 'history/rec/a', h)).text();
      expect((await fetch(`${url}/kv/?prefix=rec/`, { headers: h })).status).toBe(200);
      expect((await fetch(`${url}/kv/rec/a`, { method: 'DELETE', headers: h })).status).toBe(204);

      const { entries, total } = await waitForAudit(url, { key: 'rec/*' }, 6);
      expect(total).toBe(6);
      expect(entries.map(brief)).toEqual([
        ['delete', 'rec/a', 'success', undefined],
        ['read', 'rec/a', 'success', Buffer.byteLength(history)],
        ['read', 'rec/missing', 'not_found', undefined],
        ['read', 'rec/a', 'success', 11],
        ['update', 'rec/a', 'success', 11],
        ['create', 'rec/a', 'success', 5],
      ]);
      for (const e of entries) {
        expect(e).toMatchObject({ actor: 'token:audi****', actor_type: 'token', ip: '127.0.0.1', user_agent: 'audit-test/1.0', request_id: 'req-audit-1' });
        expect(e.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      }
    });

    it('records denials with who asked, and the effective request id when the client sent none', async () => {
      expect((await put(url, 'den/w', 'x', WRITER)).status).toBe(403);
      expect((await get(url, 'den/r', {})).status).toBe(401);
      expect((await get(url, 'den/unknown', { 'x-auth-token': 'no-such-token' })).status).toBe(401);
      const { entries } = await waitForAudit(url, { key: 'den/*' }, 3);
      expect(entries.map((e) => [e.action, e.key, e.result, e.actor, e.actor_type])).toEqual([
        ['read', 'den/unknown', 'denied', 'anonymous', 'public'],
        ['read', 'den/r', 'denied', 'anonymous', 'public'],
        ['update', 'den/w', 'denied', 'token:app-****', 'token'],
      ]);
      for (const e of entries) expect(e.request_id).toMatch(/^[0-9a-f]{40}$/);
      expect((await get(url, 'public/none', {})).status).toBe(404);
      const pub = await waitForAudit(url, { key: 'public/none' }, 1);
      expect(pub.entries.map((e) => [e.result, e.actor, e.actor_type])).toEqual([['not_found', 'anonymous', 'public']]);
    });

    it('tells bad requests and conflicts apart from not-found (the original lumped them)', async () => {
      expect((await put(url, 'res/c', 'v')).status).toBe(201);
      expect((await put(url, 'res/c', 'w', { ...ADMIN, 'if-match': '"999999"' })).status).toBe(412);
      expect((await fetch(`${url}/kv/res/c`, { method: 'HEAD', headers: ADMIN })).status).toBe(200);
      expect((await fetch(`${url}/kv/res/c`, { method: 'POST', headers: ADMIN })).status).toBe(405);
      expect((await put(url, '%20', 'v')).status).toBe(400);
      const { entries } = await waitForAudit(url, { key: 'res/*' }, 3);
      expect(entries.map(brief)).toEqual([
        ['read', 'res/c', 'success', 1],
        ['update', 'res/c', 'conflict', undefined],
        ['create', 'res/c', 'success', 1],
      ]);
      const empty = await waitForAudit(url, { key: '', result: 'invalid' }, 1);
      expect(empty.entries.map(brief)).toContainEqual(['update', '', 'invalid', undefined]);
    });

    it('records a batch per item: committed with create/update/delete, refused with what was asked', async () => {
      await put(url, 'bat/old', 'old');
      const body = JSON.stringify([
        { key: 'bat/new', value: 'abc' },
        { key: ' bat/old ', delete: true },
        { key: 'bat/enc', value: 'AAECAw==', encoding: 'base64' },
      ]);
      expect((await fetch(`${url}/kv/`, { method: 'POST', body, headers: ADMIN })).status).toBe(200);
      const refused = JSON.stringify([{ key: 'bat/x', value: 'v' }, { key: 'bat/y', delete: true }]);
      expect((await fetch(`${url}/kv/`, { method: 'POST', body: refused, headers: WRITER })).status).toBe(403);
      const { entries } = await waitForAudit(url, { key: 'bat/*' }, 6);
      expect(entries.map(brief)).toEqual([
        ['delete', 'bat/y', 'denied', undefined],
        ['update', 'bat/x', 'denied', undefined],
        ['create', 'bat/enc', 'success', 4],
        ['delete', 'bat/old', 'success', undefined],
        ['create', 'bat/new', 'success', 3],
        ['create', 'bat/old', 'success', 3],
      ]);
    });

    it('records subscriptions under their key, prefix/* or *', async () => {
      for (const path of ['sub/one', 'sub/*', 'sub/', '*']) {
        const ac = new AbortController();
        const res = await fetch(`${url}/kv/subscribe/${path}`, { headers: ADMIN, signal: ac.signal });
        expect(res.status).toBe(200);
        ac.abort();
      }
      const { entries } = await waitForAudit(url, { action: 'subscribe' }, 4);
      expect(entries.map((e) => e.key).sort()).toEqual(['*', 'sub/*', 'sub/*', 'sub/one']);
      expect(entries.every((e) => e.result === 'success' && e.value_size === undefined)).toBe(true);
    });

    describe('queries', () => {
      const base = Date.UTC(2025, 0, 1);
      const at = (hour: number): Date => new Date(base + hour * 3_600_000);
      const row = (hour: number, key: string, extra: Partial<AuditRecord> = {}): AuditRecord => ({
        timestamp: at(hour),
        action: 'read',
        key,
        actor: 'alice',
        actorType: 'user',
        result: 'success',
        ip: '10.0.0.1',
        userAgent: 'ua',
        requestId: 'rid',
        valueSize: 7,
        ...extra,
      });
      beforeAll(async () => {
        const store = await createAuditStore(server.store);
        await store.insert([
          row(0, 'flt/a%b'),
          row(1, 'flt/aXb', { actor: 'token:abcd****', actorType: 'token', action: 'update' }),
          row(2, 'flt/a_c', { result: 'denied', ip: '', userAgent: '', requestId: '', valueSize: null }),
          row(3, 'flt/abc', { action: 'delete', valueSize: 0 }),
          row(4, 'FLT/a'),
          row(5, 'flt', { actor: 'anonymous', actorType: 'public', result: 'not_found' }),
        ]);
      });
      const keys = async (body: Record<string, unknown>): Promise<string[]> =>
        (await queryAudit(url, { from: '2025-01-01T00:00:00Z', to: '2025-01-01T23:59:59Z', ...body })).entries.map((e) => e.key);

      it('matches keys exactly or by literal, case-sensitive prefix (% and _ are not wildcards)', async () => {
        expect(await keys({ key: 'flt/*' })).toEqual(['flt/abc', 'flt/a_c', 'flt/aXb', 'flt/a%b']);
        expect(await keys({ key: 'flt/a%*' })).toEqual(['flt/a%b']);
        expect(await keys({ key: 'flt/a_*' })).toEqual(['flt/a_c']);
        expect(await keys({ key: 'flt' })).toEqual(['flt']);
        expect(await keys({ key: 'flt/a%b' })).toEqual(['flt/a%b']);
        expect(await keys({ key: 'FLT/*' })).toEqual(['FLT/a']);
      });

      it('filters by actor, actor type, action and result', async () => {
        expect(await keys({ actor: 'token:abcd****' })).toEqual(['flt/aXb']);
        expect(await keys({ actor_type: 'public' })).toEqual(['flt']);
        expect(await keys({ action: 'delete' })).toEqual(['flt/abc']);
        expect(await keys({ result: 'denied' })).toEqual(['flt/a_c']);
        expect(await keys({ actor: 'alice', action: 'read', result: 'success' })).toEqual(['FLT/a', 'flt/a%b']);
      });

      it('bounds time inclusively, in any RFC 3339 offset', async () => {
        expect(await keys({ from: at(1).toISOString(), to: at(3).toISOString() })).toEqual(['flt/abc', 'flt/a_c', 'flt/aXb']);
        expect(await keys({ from: '2025-01-01T03:00:00+02:00', to: '2025-01-01T00:00:00-02:00' })).toEqual(['flt/a_c', 'flt/aXb']);
        expect(await keys({ from: '2025-01-01T04:00:00.000Z' })).toContain('FLT/a');
        expect(await keys({ from: '2025-01-01T04:00:01Z' })).not.toContain('FLT/a');
      });

      it('answers newest first with total before the limit; limit <= 0 or too big means the query limit', async () => {
        const two = await queryAudit(url, { key: 'flt*', limit: 2, to: '2025-01-02T00:00:00Z' });
        expect([two.entries.map((e) => e.key), two.total, two.limit]).toEqual([['flt', 'flt/abc'], 5, 2]);
        for (const limit of [0, -3, 51, 100000]) expect((await queryAudit(url, { limit })).limit).toBe(50);
        expect((await queryAudit(url, {})).limit).toBe(50);
      });

      it('leaves out empty optional fields and keeps value_size 0', async () => {
        const { entries } = await queryAudit(url, { key: 'flt/a*', to: '2025-01-02T00:00:00Z' });
        const bare = entries.find((e) => e.key === 'flt/a_c');
        expect(bare).toEqual({ id: bare?.id, timestamp: '2025-01-01T02:00:00Z', action: 'read', key: 'flt/a_c', actor: 'alice', actor_type: 'user', result: 'denied' });
        expect(entries.find((e) => e.key === 'flt/abc')).toMatchObject({ value_size: 0, ip: '10.0.0.1', user_agent: 'ua', request_id: 'rid' });
      });
    });

    describe('who may query', () => {
      it('lets admin tokens and admin users in; non-admins get 403, anonymous and unknown 401', async () => {
        expect((await postQuery(url, {}, ADMIN)).status).toBe(200);
        const root = await loginCookie(url, 'root', 'admin-password-1');
        expect((await postQuery(url, {}, { cookie: root })).status).toBe(200);
        const viewer = await loginCookie(url, 'viewer', 'viewer-password-1');
        for (const [headers, status, error] of [
          [WRITER, 403, 'admin access required'],
          [{ cookie: viewer }, 403, 'admin access required'],
          [{}, 401, 'unauthorized'],
          [{ 'x-auth-token': 'no-such-token' }, 401, 'unauthorized'],
          [{ authorization: 'Bearer no-such-token' }, 401, 'unauthorized'],
        ] as const) {
          const res = await postQuery(url, {}, headers);
          expect([res.status, await res.json()]).toEqual([status, { error }]);
        }
      });

      it('checks who asks before reading the body', async () => {
        const res = await postQuery(url, 'not json', WRITER);
        expect(res.status).toBe(403);
      });

      it.each([
        ['not JSON', 'not json', 'invalid request body'],
        ['an empty body', '', 'invalid request body'],
        ['an array', '[]', 'invalid request body'],
        ['a number as key', '{"key": 5}', 'invalid request body'],
        ['a string limit', '{"limit": "10"}', 'invalid request body'],
        ['a fractional limit', '{"limit": 1.5}', 'invalid request body'],
        ['an unknown action', '{"action": "write"}', 'invalid query parameters'],
        ['an unknown result', '{"result": "failed"}', 'invalid query parameters'],
        ['an unknown actor type', '{"actor_type": "robot"}', 'invalid query parameters'],
        ['a date without time', '{"from": "2025-01-01"}', 'invalid query parameters'],
        ['February 30', '{"to": "2025-02-30T00:00:00Z"}', 'invalid query parameters'],
        ['a missing offset', '{"to": "2025-01-01T00:00:00"}', 'invalid query parameters'],
      ])('answers 400 for %s', async (_name, body, error) => {
        const res = await postQuery(url, body);
        expect([res.status, await res.json()]).toEqual([400, { error }]);
      });

      it('ignores unknown fields and treats null or "" as no filter', async () => {
        const res = await postQuery(url, { extra: 1, key: null, actor: '', limit: null });
        expect(res.status).toBe(200);
      });

      it('answers 405 with Allow for other methods', async () => {
        const res = await fetch(`${url}/audit/query`, { headers: ADMIN });
        expect([res.status, res.headers.get('allow')]).toEqual([405, 'POST']);
      });
    });
  });
}
