import type { KeyInfoResponse } from '@stash/client/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { formatSize } from '../../src/web/templates/display.js';
import { apiPut, get } from './web-helpers.js';

/** Key and size of every row the table shows, in order (page size 0: all on one page). */
async function tableRows(url: string, cookie = ''): Promise<string[]> {
  const page = (await get(`${url}/web/keys`, { cookie })).text;
  // a key's text has a <wbr> after each slash (where it may wrap)
  return [...page.matchAll(/class="key-link"[^>]*>(.*?)<\/button>.*?<td class="col-size">([^<]*)<\/td>/g)].map((m) => `${(m[1] ?? '').replaceAll('<wbr>', '')} ${m[2]}`);
}

/** The same from the API, sorted as the UI sorts. */
async function apiRows(url: string, compare: (a: KeyInfoResponse, b: KeyInfoResponse) => number, filter = 'all'): Promise<string[]> {
  const items = (await (await fetch(`${url}/kv/?filter=${filter}`)).json()) as KeyInfoResponse[];
  return items.sort(compare).map((k) => `${k.key} ${formatSize(k.size)}`);
}

const byUpdated = (a: KeyInfoResponse, b: KeyInfoResponse): number => Date.parse(b.updated_at) - Date.parse(a.updated_at) || (b.revision ?? 0) - (a.revision ?? 0);
const byCreated = (a: KeyInfoResponse, b: KeyInfoResponse): number => Date.parse(b.created_at) - Date.parse(a.created_at);
const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 3)); // distinct millisecond timestamps

describe('the key list kept between requests', () => {
  let server: TestServer;
  let url: string;

  beforeAll(async () => {
    server = await startTestServer(['--server.page-size', '0', '--secrets.key', 'list-cache-secrets-key']);
    url = server.url;
  });
  afterAll(() => server?.close());

  it('shows what the API lists after creates, updates, deletes and secrets, in every order and filter', async () => {
    for (const key of ['c/a', 'c/b', 'c/c']) {
      await apiPut(url, key, 'xx');
      await tick();
    }
    // warm every view the assertions below read
    for (const cookie of ['', 'sort_mode=created', 'secrets_filter=keys', 'secrets_filter=secrets']) await tableRows(url, cookie);

    await apiPut(url, 'c/new', 'hello');
    await tick();
    await apiPut(url, 'c/a', 'a much longer value than before');
    await tick();
    await fetch(`${url}/kv/c/b`, { method: 'DELETE' });
    await apiPut(url, 'c/secrets/token', 'sealed by the server');
    await tick();
    await fetch(`${url}/kv/c/c`, { method: 'DELETE' }); // deleted and created again: a new creation time
    await apiPut(url, 'c/c', 'back again');

    expect(await tableRows(url)).toEqual(await apiRows(url, byUpdated));
    expect(await tableRows(url, 'sort_mode=created')).toEqual(await apiRows(url, byCreated));
    expect(await tableRows(url, 'secrets_filter=keys')).toEqual(await apiRows(url, byUpdated, 'keys'));
    expect(await tableRows(url, 'secrets_filter=secrets')).toEqual(await apiRows(url, byUpdated, 'secrets'));
    expect(await tableRows(url)).not.toContainEqual(expect.stringMatching(/^c\/b /));
    // an update keeps the key's creation time: c/a is still the oldest
    expect((await tableRows(url, 'sort_mode=created')).at(-1)).toMatch(/^c\/a /);
  });

  it('reads every key again when it is too far behind to replay', async () => {
    await tableRows(url);
    const batch = Array.from({ length: 50 }, (_, i) => ({ key: `far/k${i}`, value: 'v'.repeat(i) }));
    for (let round = 0; round < 12; round++) {
      const res = await fetch(`${url}/kv/`, { method: 'POST', body: JSON.stringify(batch) });
      expect(res.status).toBe(200);
    }
    expect(await tableRows(url)).toEqual(await apiRows(url, byUpdated));
    expect((await get(`${url}/web/keys?search=far/`)).text).toContain('50 keys matching');
  });
});
