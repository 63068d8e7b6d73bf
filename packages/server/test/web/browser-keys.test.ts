import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { RUN_BROWSER_TESTS, launchBrowser, openPage, unexpected, type WatchedPage } from './browser.js';
import { apiGet, apiPut } from './web-helpers.js';

// A person using the UI in Debian's Chromium against a real server on a real SQLite file.
describe.skipIf(!RUN_BROWSER_TESTS)('web UI in a browser', () => {
  let server: TestServer;
  let url: string;
  let browser: Browser;
  let watched: WatchedPage;
  let page: Page;

  beforeAll(async () => {
    server = await startTestServer(['--server.page-size', '4', '--secrets.key', 'browser-secrets-key-16']);
    url = server.url;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(path = '/', size: { width?: number; height?: number } = {}): Promise<Page> {
    watched = await openPage(browser, size);
    page = watched.page;
    await page.goto(`${url}${path}`);
    return page;
  }

  afterEach(async () => {
    const problems = unexpected(watched.problems);
    await watched.close();
    expect(problems).toEqual([]);
  });

  const dialog = (): ReturnType<Page['getByRole']> => page.getByRole('dialog');
  const row = (key: string): ReturnType<Page['getByRole']> => page.getByRole('row').filter({ has: page.getByRole('button', { name: key, exact: true }) });

  it('creates, views, edits and deletes a key', async () => {
    await open();
    await page.getByRole('button', { name: 'New Key' }).first().click();
    // the modal's content arrives by htmx after the click: wait for it (isVisible() does not wait)
    await dialog().getByRole('heading', { name: 'New Key' }).waitFor();
    await page.getByLabel('Key', { exact: true }).fill('app/config');
    await page.getByLabel('Value', { exact: true }).fill('{"debug": true, "level": "info"}');
    await page.getByLabel('Format', { exact: true }).selectOption('json');
    await page.getByRole('button', { name: 'Save' }).click();
    await row('app/config').waitFor();
    await dialog().waitFor({ state: 'hidden' });
    await page.getByRole('status').getByText('Created “app/config”').waitFor();
    expect((await apiGet(url, 'app/config')).format).toBe('application/json');

    await page.getByRole('button', { name: 'app/config', exact: true }).click();
    await dialog().getByRole('heading', { name: 'View Key' }).waitFor();
    expect(await dialog().locator('.token.property').first().textContent()).toBe('"debug"');
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });

    await page.getByRole('button', { name: 'Edit app/config' }).click();
    await dialog().getByRole('heading', { name: 'Edit Key' }).waitFor();
    expect(await page.getByLabel('Key', { exact: true }).inputValue()).toBe('app/config');
    await page.getByLabel('Value', { exact: true }).fill('{"debug": false}');
    await page.getByRole('button', { name: 'Save' }).click();
    await dialog().waitFor({ state: 'hidden' });
    expect((await apiGet(url, 'app/config')).body.toString()).toBe('{"debug": false}');

    // Delete asks in the page's own dialog; Cancel keeps the key, Delete removes it
    await page.getByRole('button', { name: 'Delete app/config' }).click();
    const confirm = page.getByRole('dialog', { name: 'Please confirm' });
    await confirm.getByText('Delete key “app/config”?').waitFor();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'hidden' });
    expect((await apiGet(url, 'app/config')).status).toBe(200);
    await page.getByRole('button', { name: 'Delete app/config' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await row('app/config').waitFor({ state: 'detached' });
    expect((await apiGet(url, 'app/config')).status).toBe(404);
  });

  it('shows each format check’s message and saves with Submit Anyway', async () => {
    await open();
    const cases: Array<[string, string]> = [
      ['json', '{"a": 1,'],
      ['yaml', 'key: [1, 2\n'],
      ['xml', '<a><b></a>'],
      ['toml', 'a = \n'],
      ['ini', '[broken\n'],
      ['hcl', 'x = \n'],
    ];
    for (const [format, value] of cases) {
      await page.getByRole('button', { name: 'New Key' }).first().click();
      await page.getByLabel('Key', { exact: true }).fill(`check/${format}`);
      await page.getByLabel('Value', { exact: true }).fill(value);
      await page.getByLabel('Format', { exact: true }).selectOption(format);
      await page.getByRole('button', { name: 'Save' }).click();
      await dialog().getByRole('alert').getByText(`invalid ${format}:`).waitFor();
      // what was typed survives the round trip
      expect(await page.getByLabel('Value', { exact: true }).inputValue()).toBe(value);
      expect(await page.getByLabel('Format', { exact: true }).inputValue()).toBe(format);
      if (format === 'hcl') {
        await page.getByRole('button', { name: 'Submit Anyway' }).click();
        await dialog().waitFor({ state: 'hidden' });
      } else {
        await page.getByRole('button', { name: 'Cancel' }).click();
        await dialog().waitFor({ state: 'hidden' });
      }
    }
    expect((await apiGet(url, 'check/json')).status).toBe(404);
    expect((await apiGet(url, 'check/hcl')).body.toString()).toBe('x = \n');
  });

  it('searches as you type, pages, sorts, switches view, theme and secrets filter, and keeps them across reload', async () => {
    for (const key of ['list/alpha', 'list/bravo', 'list/charlie', 'list/delta', 'list/echo', 'list/secrets/token']) {
      await apiPut(url, key, `value of ${key}`);
    }
    await open();
    await page.getByRole('searchbox', { name: 'Search keys' }).fill('list/');
    await page.getByText('6 keys matching “list/”').waitFor();
    await page.getByText('Page 1 of 2').waitFor();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Page 2 of 2').waitFor();
    await page.getByRole('button', { name: 'Previous' }).click();
    await page.getByText('Page 1 of 2').waitFor();
    expect(new URL(page.url()).searchParams.get('search')).toBe('list/');

    // sort: updated → key; the first row is now the alphabetically first key
    await page.getByRole('button', { name: /^Sort by updated/ }).click();
    await page.getByRole('button', { name: /^Sort by key/ }).waitFor();
    await expect(page.locator('tbody .key-link').first().textContent()).resolves.toBe('list/alpha');

    await page.getByRole('button', { name: 'Switch to card view' }).click();
    await page.locator('ul.cards').waitFor();
    await page.getByRole('button', { name: 'Switch to table view' }).waitFor();

    await page.getByRole('button', { name: /^Showing all keys/ }).click();
    await page.getByRole('button', { name: /^Showing secrets only/ }).waitFor();
    await page.getByText('1 key matching “list/”').waitFor();

    await page.getByRole('button', { name: /^Theme: system/ }).click();
    await page.waitForFunction(() => document.documentElement.dataset['theme'] === 'dark');

    await page.goto(`${url}/`);
    expect(await page.evaluate(() => document.documentElement.dataset['theme'])).toBe('dark');
    await page.getByRole('button', { name: /^Sort by key/ }).waitFor();
    await page.getByRole('button', { name: /^Showing secrets only/ }).waitFor();
    await page.locator('ul.cards').waitFor();
    const cookies = await watched.context.cookies();
    const byName = Object.fromEntries(cookies.map((c) => [c.name, c]));
    for (const [name, value] of [['theme', 'dark'], ['view_mode', 'cards'], ['sort_mode', 'key'], ['secrets_filter', 'secrets']]) {
      expect(byName[name as string]?.value).toBe(value);
      expect((byName[name as string]?.expires ?? 0) - Date.now() / 1000).toBeGreaterThan(364 * 24 * 3600);
    }
  });

  it('shows binary values as base64 and saves base64 edits as bytes', async () => {
    await apiPut(url, 'bin/blob', new Uint8Array([0, 1, 2, 0xff]));
    await open('/?search=bin/');
    await page.getByRole('button', { name: 'bin/blob', exact: true }).click();
    await dialog().getByText('Binary value, shown as base64.').waitFor();
    await dialog().getByText('AAEC/w==').waitFor();
    await dialog().getByRole('button', { name: 'Edit' }).click();
    await dialog().getByRole('heading', { name: 'Edit Key' }).waitFor();
    await dialog().getByText('Binary value: edit it as base64.').waitFor();
    await page.getByLabel('Value', { exact: true }).fill(Buffer.from([9, 8, 7, 0x80]).toString('base64'));
    await page.getByRole('button', { name: 'Save' }).click();
    await dialog().waitFor({ state: 'hidden' });
    expect((await apiGet(url, 'bin/blob')).body.equals(Buffer.from([9, 8, 7, 0x80]))).toBe(true);
  });

  it('detects a change made through the API while the form is open: Reload, then Overwrite', async () => {
    await apiPut(url, 'conflict/k', 'original');
    await open('/?search=conflict/');
    await page.getByRole('button', { name: 'Edit conflict/k' }).click();
    await page.getByLabel('Value', { exact: true }).fill('my edit');
    await apiPut(url, 'conflict/k', 'changed elsewhere');
    await page.getByRole('button', { name: 'Save' }).click();
    await dialog().getByText('Conflict detected:').waitFor();
    await dialog().getByText('Show current server value').click();
    await dialog().locator('details').getByText('changed elsewhere').waitFor();
    await page.getByRole('button', { name: 'Reload' }).click();
    await dialog().getByText('Conflict detected:').waitFor({ state: 'detached' });
    expect(await page.getByLabel('Value', { exact: true }).inputValue()).toBe('changed elsewhere');

    await page.getByLabel('Value', { exact: true }).fill('mine again');
    await apiPut(url, 'conflict/k', 'changed once more');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('button', { name: 'Overwrite' }).click();
    await dialog().waitFor({ state: 'hidden' });
    expect((await apiGet(url, 'conflict/k')).body.toString()).toBe('mine again');
  });

  it('lists the history and restores an older version in one click', async () => {
    await apiPut(url, 'hist/k', 'version one');
    await apiPut(url, 'hist/k', 'version two');
    await open('/?search=hist/');
    await page.getByRole('button', { name: 'hist/k', exact: true }).click();
    await dialog().getByRole('button', { name: 'History' }).click();
    await dialog().getByRole('heading', { name: 'History' }).waitFor();
    const rows = dialog().locator('tbody tr');
    expect(await rows.count()).toBe(2);
    await rows.nth(1).getByRole('button', { name: /^View revision/ }).click();
    await dialog().getByText('version one').waitFor();
    await dialog().getByRole('button', { name: 'Back to history' }).click();
    await rows.nth(1).getByRole('button', { name: /^Restore revision/ }).click();
    await dialog().waitFor({ state: 'hidden' });
    await page.getByRole('status').getByText(/Restored “hist\/k” to revision/).waitFor();
    expect((await apiGet(url, 'hist/k')).body.toString()).toBe('version one');
  });

  it('shows long keys whole on a phone, in the table and as cards, wrapped after a slash', async () => {
    const keys = ['phone/a/rather/long/path/to/the/setting-one', 'phone/a/rather/long/path/to/the/setting-two'];
    for (const key of keys) await fetch(`${url}/kv/${key}`, { method: 'PUT', body: 'v' });
    await open('/?search=phone/', { width: 375, height: 780 });
    // each key link: its text as shown, whether any of it is cut off, and the text before each line break
    const shown = async (): Promise<Array<{ text: string; clipped: boolean; breaksAfter: string[] }>> =>
      page.locator('.key-link').evaluateAll((links) =>
        links.map((l) => {
          const breaksAfter: string[] = [];
          let top: number | undefined;
          let before = '';
          const walker = document.createTreeWalker(l, NodeFilter.SHOW_TEXT);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = node.textContent ?? '';
            for (let i = 0; i < text.length; i++) {
              const range = document.createRange();
              range.setStart(node, i);
              range.setEnd(node, i + 1);
              const y = range.getBoundingClientRect().top;
              if (top !== undefined && y > top + 2) breaksAfter.push(before);
              top = y;
              before += text[i];
            }
          }
          return { text: before, clipped: l.scrollWidth > l.clientWidth, breaksAfter };
        }),
      );
    for (const view of ['table', 'cards']) {
      const links = await shown();
      expect(links.map((l) => l.text).sort(), view).toEqual(keys);
      for (const l of links) {
        expect(l.clipped, `${view}: ${l.text}`).toBe(false);
        expect(l.breaksAfter.length, `${view}: ${l.text}`).toBeGreaterThan(0);
        for (const start of l.breaksAfter) expect(start.endsWith('/'), `${view}: ${l.text} breaks after “${start}”`).toBe(true);
      }
      if (view === 'table') {
        await page.getByRole('button', { name: 'Switch to card view' }).click();
        await page.locator('ul.cards').waitFor();
      }
    }
    await page.getByRole('button', { name: 'Switch to table view' }).click();
    await page.locator('ul.cards').waitFor({ state: 'detached' });
    // the accessible name is the key, whatever the line breaks
    await page.getByRole('button', { name: keys[0], exact: true }).waitFor();
  });

  it('shows markup in keys and values as text and never runs it', async () => {
    const key = 'xss/<script>alert(1)</script>';
    const value = '"><img src=x onerror=alert(2)><script>alert(3)</script>';
    await apiPut(url, encodeURIComponent(key), value);
    // spaces in keys become `_` (compat 4.1), so this one needs none to stay an attribute breaker
    const breaker = 'xss/"><img/src=x/onerror=alert(4)>';
    await apiPut(url, encodeURIComponent(breaker), 'x');
    await open('/?search=xss/');
    await page.getByRole('button', { name: key, exact: true }).click();
    await dialog().getByText(value).waitFor();
    await page.keyboard.press('Escape');
    await dialog().waitFor({ state: 'hidden' });
    await page.getByRole('button', { name: `Edit ${breaker}` }).click();
    expect(await page.getByLabel('Key', { exact: true }).inputValue()).toBe(breaker);
    await page.keyboard.press('Escape');
    expect(await page.locator('img').count()).toBe(0);
    // afterEach fails the test if any alert dialog fired
  });

  it('marks secrets with a lock and zero-knowledge values with a shield and no Edit', async () => {
    await apiPut(url, 'mark/secrets/db', 'pw');
    await apiPut(url, 'mark/zk', `$ZK$${Buffer.alloc(48, 1).toString('base64')}`);
    await open('/?search=mark/');
    await row('mark/secrets/db').getByText('Secret', { exact: true }).waitFor({ state: 'attached' });
    const zk = row('mark/zk');
    await zk.getByText('Zero-Knowledge Encrypted').waitFor({ state: 'attached' });
    expect(await zk.getByRole('button', { name: 'Edit mark/zk' }).count()).toBe(0);
    await page.getByRole('button', { name: 'mark/zk', exact: true }).click();
    await dialog().getByText('Zero-Knowledge Encrypted').waitFor();
    expect(await dialog().getByRole('button', { name: 'Edit' }).count()).toBe(0);
  });
});
