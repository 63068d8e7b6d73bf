import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { RUN_BROWSER_TESTS, launchBrowser, openPage, signIn, unexpected, type WatchedPage } from './browser.js';
import { apiGet, apiPut } from './web-helpers.js';

const AUTH = join(import.meta.dirname, '..', 'fixtures', 'auth-web.yml');
const ADMIN = { 'x-auth-token': 'web-admin-token' };

describe.skipIf(!RUN_BROWSER_TESTS)('web UI sign-in and permissions in a browser', () => {
  let server: TestServer;
  let url: string;
  let browser: Browser;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    server = await startTestServer(['--auth.file', AUTH]);
    url = server.url;
    await apiPut(url, 'app/config', '{"a":1}', 'json', ADMIN);
    await apiPut(url, 'ops/plan', 'classified', 'text', ADMIN);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    const problems = pages.flatMap((p) => unexpected(p.problems));
    for (const p of pages) await p.close();
    await browser?.close();
    await server?.close();
    expect(problems).toEqual([]);
  });

  async function fresh(): Promise<Page> {
    const watched = await openPage(browser);
    pages.push(watched);
    return watched.page;
  }

  it('refuses a wrong password, signs in, and logs out', async () => {
    const page = await fresh();
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.getByLabel('Username').fill('admin');
    await page.getByLabel('Password').fill('wrong');
    await page.getByRole('button', { name: 'Login' }).click();
    await page.getByRole('alert').getByText('Invalid username or password').waitFor();
    expect(await page.getByLabel('Username').inputValue()).toBe('admin'); // kept for the next try
    await page.getByLabel('Password').fill('admin-pw');
    await page.getByRole('button', { name: 'Login' }).click();
    await page.getByRole('button', { name: 'app/config', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Logout' }).click();
    await page.getByRole('button', { name: 'Login' }).waitFor();
    await page.goto(`${url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('gives a read-only user no New Key, Edit or Delete', async () => {
    const page = await fresh();
    await signIn(page, url, 'reader', 'reader-pw');
    await page.getByRole('button', { name: 'ops/plan', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'New Key' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^(Edit|Delete) / }).count()).toBe(0);
    await page.getByRole('button', { name: 'app/config', exact: true }).click();
    await page.getByRole('dialog').getByRole('heading', { name: 'View Key' }).waitFor();
    expect(await page.getByRole('dialog').getByRole('button', { name: 'Edit' }).count()).toBe(0);
  });

  it('limits a user to their prefix, and says so when they try to write elsewhere', async () => {
    const page = await fresh();
    await signIn(page, url, 'alice', 'alice-pw');
    await page.getByRole('button', { name: 'app/config', exact: true }).waitFor();
    expect(await page.getByRole('button', { name: 'ops/plan', exact: true }).count()).toBe(0);
    await page.getByRole('button', { name: 'New Key' }).first().click();
    await page.getByLabel('Key', { exact: true }).fill('ops/mine');
    await page.getByLabel('Value', { exact: true }).fill('x');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog').getByRole('alert').getByText('Access denied').waitFor();
    await page.getByLabel('Key', { exact: true }).fill('app/mine');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'app/mine', exact: true }).waitFor();
    expect((await apiGet(url, 'ops/mine', ADMIN)).status).toBe(404);
    expect((await apiGet(url, 'app/mine', ADMIN)).body.toString()).toBe('x');
  });

  it('refuses a form posted from another origin with the user’s session', async () => {
    const page = await fresh();
    await signIn(page, url, 'admin', 'admin-pw');
    // an attacker's page on another port of the same host: same site, so the session cookie travels
    const attacker: Server = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<form method="post" action="${url}/web/keys"><input name="key" value="csrf/planted"><input name="value" value="x"><button>Win a prize</button></form>`);
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    try {
      const address = attacker.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      await page.goto(`http://127.0.0.1:${port}/`);
      const answer = page.waitForResponse(`${url}/web/keys`);
      await page.getByRole('button', { name: 'Win a prize' }).click();
      expect((await answer).status()).toBe(403);
    } finally {
      attacker.close();
    }
    expect((await apiGet(url, 'csrf/planted', ADMIN)).status).toBe(404);
  });
});

describe.skipIf(!RUN_BROWSER_TESTS)('web UI under a base URL in a browser', () => {
  let server: TestServer;
  let browser: Browser;
  let watched: WatchedPage;

  beforeAll(async () => {
    server = await startTestServer(['--server.base-url', '/stash', '--auth.file', AUTH]);
    browser = await launchBrowser();
    watched = await openPage(browser);
  });
  afterAll(async () => {
    await watched?.close();
    await browser?.close();
    await server?.close();
  });

  it('signs in, creates, views and deletes a key, all under /stash', async () => {
    const base = `${server.url}/stash`;
    const { page } = watched;
    await signIn(page, base, 'admin', 'admin-pw');
    expect(new URL(page.url()).pathname).toBe('/stash/');
    await page.getByRole('button', { name: 'New Key' }).first().click();
    await page.getByLabel('Key', { exact: true }).fill('based/key');
    await page.getByLabel('Value', { exact: true }).fill('under a prefix');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'based/key', exact: true }).click();
    await page.getByRole('dialog').getByText('under a prefix').waitFor();
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Delete based/key' }).click();
    await page.getByRole('dialog', { name: 'Please confirm' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'based/key', exact: true }).waitFor({ state: 'detached' });
    expect((await apiGet(base, 'based/key', ADMIN)).status).toBe(404);
    expect(unexpected(watched.problems)).toEqual([]);
  });
});
