import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/test-server.js';
import { RUN_BROWSER_TESTS, launchBrowser, openPage, signIn, unexpected, type WatchedPage } from './browser.js';
import { apiGet, apiPut } from './web-helpers.js';

// The web UI beyond the original's: live updates, conflicts with diffs and merges, history diffs,
// conditional rollback, the folder tree and keyboard use, clicked through in Debian's Chromium.
describe.skipIf(!RUN_BROWSER_TESTS)('web UI beyond the original, in a browser', () => {
  let server: TestServer;
  let url: string;
  let browser: Browser;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    url = server.url;
    browser = await launchBrowser();
  });
  afterEach(async () => {
    const problems = pages.flatMap((p) => unexpected(p.problems));
    for (const p of pages.splice(0)) await p.close();
    expect(problems).toEqual([]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(path = '/'): Promise<Page> {
    const watched = await openPage(browser);
    pages.push(watched);
    await watched.page.goto(`${url}${path}`);
    await watched.page.locator('#live-status.is-live').waitFor();
    return watched.page;
  }
  const keyButton = (page: Page, key: string): ReturnType<Page['getByRole']> => page.getByRole('button', { name: key, exact: true });
  /** `promise`, or a failure that says what did not happen within 10 s (instead of the test's timeout). */
  const within10s = async <T>(promise: Promise<T>, what: string): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`within 10 s: ${what}`)), 10_000);
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  };

  /**
   * Hold the page's GET requests matching `pattern` until `release()`: `held` resolves when the
   * first arrives; released, each goes to the server as usual. The caller unroutes `pattern`.
   */
  async function holdReads(page: Page, pattern: RegExp): Promise<{ held: Promise<void>; release: () => void }> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let holding!: () => void;
    const held = new Promise<void>((resolve) => (holding = resolve));
    await page.route(pattern, async (route) => {
      if (route.request().method() !== 'GET') return route.continue();
      holding();
      await gate;
      await route.continue();
    });
    return { held, release };
  }

  /** Resolves once htmx has handled (swapped or not) the answer to a request whose URL contains `part`. */
  const handledAnswer = (page: Page, part: string): Promise<void> =>
    page.evaluate(
      (urlPart) =>
        new Promise<void>((resolve) => {
          const done = (event: Event): void => {
            if (!(event as CustomEvent<{ xhr: XMLHttpRequest }>).detail.xhr.responseURL.includes(urlPart)) return;
            document.removeEventListener('htmx:afterRequest', done);
            resolve();
          };
          document.addEventListener('htmx:afterRequest', done);
        }),
      part,
    );

  it('shows a write made through the API within a second, without a reload, and drops a deleted key', async () => {
    const page = await open();
    let navigations = 0;
    page.on('framenavigated', () => navigations++);
    // the bound for one page (1 s); the spread under load is measured in bench/web-live-bench.mjs
    await apiPut(url, 'live/new', 'hello');
    await keyButton(page, 'live/new').waitFor({ timeout: 1000 });
    await page.locator('tr.is-changed .live-badge').getByText('created').waitFor({ timeout: 1000 });
    await fetch(`${url}/kv/live/new`, { method: 'DELETE' });
    await keyButton(page, 'live/new').waitFor({ state: 'detached', timeout: 1000 });
    expect(navigations).toBe(0);
  });

  it('deletes the confirmed key even when a live refresh answers while the confirmation is open', async () => {
    await apiPut(url, 'race/doomed', 'bye');
    const page = await open('/?search=race/');
    // hold the next list read (the live refresh after the write below) until the dialog is open
    const { held, release } = await holdReads(page, /\/web\/keys(\?|$)/);
    await apiPut(url, 'race/other', 'hi');
    await held;
    await page.getByRole('button', { name: 'Delete race/doomed' }).click();
    const confirm = page.getByRole('dialog', { name: 'Please confirm' });
    await confirm.waitFor();
    release();
    await page.waitForResponse((r) => /\/web\/keys(\?|$)/.test(r.url()) && r.request().method() === 'GET');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await keyButton(page, 'race/doomed').waitFor({ state: 'detached', timeout: 5000 });
    expect((await apiGet(url, 'race/doomed')).status).toBe(404);
    await keyButton(page, 'race/other').waitFor();
    await page.unroute(/\/web\/keys(\?|$)/);
  });

  it('does not open the view again when its live refresh answers after the user closed it', async () => {
    await apiPut(url, 'late/view', 'v1');
    const page = await open('/?search=late/');
    await keyButton(page, 'late/view').click();
    await page.getByRole('dialog').getByRole('heading', { name: 'View Key' }).waitFor();
    const viewPath = /\/web\/keys\/view\/late%2Fview/;
    const { held, release } = await holdReads(page, viewPath);
    await apiPut(url, 'late/view', 'v2'); // the open view follows its key: a refresh, held above
    await held;
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    const handled = handledAnswer(page, '/web/keys/view/');
    release();
    await handled;
    expect(await page.evaluate(() => (document.getElementById('modal') as HTMLDialogElement).open)).toBe(false);
    await page.unroute(viewPath);
  });

  it('refreshes the list while the live refresh of the open view is still out, and keeps the view following', async () => {
    await apiPut(url, 'apart/open', 'v1');
    const page = await open('/?search=apart/');
    await keyButton(page, 'apart/open').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'View Key' }).waitFor();
    const viewPath = /\/web\/keys\/view\/apart%2Fopen/;
    const { held, release } = await holdReads(page, viewPath);
    await apiPut(url, 'apart/open', 'v2');
    await within10s(held, 'the write did not start a live refresh of the open view');
    // the list's refresh does not wait behind the view's (htmx queues requests of one source)
    await apiPut(url, 'apart/new', 'x');
    await within10s(keyButton(page, 'apart/new').waitFor(), 'the list did not show a new key while the view refresh was out');
    // a second change of the open key while the list refresh was queued must not drop either
    await apiPut(url, 'apart/open', 'v3');
    await apiPut(url, 'apart/later', 'y');
    release();
    await within10s(dialog.getByText('v3').waitFor(), 'the open view did not follow its key to v3');
    await within10s(keyButton(page, 'apart/later').waitFor(), 'the list lost a refresh');
    await page.unroute(viewPath);
  });

  it('keeps the keyboard focus on the control the user is on when a live refresh replaces the list, and it works at once', async () => {
    await apiPut(url, 'focus/a', '1');
    await apiPut(url, 'focus/b', '1');
    const page = await open('/?search=focus/');
    await keyButton(page, 'focus/a').focus();
    const listRead = /\/web\/keys\?(.*&)?search=focus%2F/;
    const { held, release } = await holdReads(page, listRead);
    await apiPut(url, 'focus/c', '1');
    await within10s(held, 'the write did not start a live refresh of the list');
    // while the refresh is out, the user moves on to another key, and presses Enter on it the
    // moment the refresh has replaced the list (the next task after the swap)
    await keyButton(page, 'focus/b').focus();
    const pressed = page.evaluate(
      () =>
        new Promise<string | undefined>((resolve) => {
          document.addEventListener('htmx:afterSwap', function swapped(event) {
            if ((event as CustomEvent<{ target: Element }>).detail.target.id !== 'keys-table') return;
            document.removeEventListener('htmx:afterSwap', swapped);
            setTimeout(() => {
              const focused = document.activeElement as HTMLElement | null;
              focused?.click();
              resolve(focused?.textContent ?? undefined);
            }, 0);
          });
        }),
    );
    release();
    expect(await within10s(pressed, 'the held live refresh did not replace the list')).toBe('focus/b');
    await within10s(page.getByRole('dialog').getByRole('heading', { name: 'View Key' }).waitFor(), 'the replaced key did not open at once');
    expect(await page.getByRole('dialog').getByText('focus/b').count()).toBeGreaterThan(0);
    await page.unroute(listRead);
  });

  it('keeps the list the user asked for when a live refresh asked earlier answers after it', async () => {
    await apiPut(url, 'order/a', '1');
    await apiPut(url, 'order-other/b', '1');
    const page = await open('/?search=order/');
    await keyButton(page, 'order/a').waitFor();
    // hold the live refresh the write below starts: it reads the list still filtered by the search
    const filtered = /\/web\/keys\?(.*&)?search=order%2F/;
    const { held, release } = await holdReads(page, filtered);
    await apiPut(url, 'order/c', '1');
    await within10s(held, 'the write did not start a live refresh of the filtered list');
    // listening while the refresh is held, so its answer cannot come before the listener
    const handled = handledAnswer(page, 'search=order%2F');
    const answered = page.waitForResponse((r) => filtered.test(r.url()));
    // meanwhile the user clears the search, and sees every key
    await page.getByRole('searchbox').fill('');
    await keyButton(page, 'order-other/b').waitFor();
    release();
    await within10s(answered, 'the server did not answer the held live refresh');
    await within10s(handled, 'the held live refresh did not answer');
    // the older answer, still filtered, did not replace the newer one
    expect(await keyButton(page, 'order-other/b').count()).toBe(1);
    expect(await page.getByText(/matching/).count()).toBe(0);
    await page.unroute(filtered);
  });

  it('keeps what the user opened in the modal when the live refresh of the open view answers after it', async () => {
    await apiPut(url, 'late/hist', 'v1');
    const page = await open('/?search=late/hist');
    await keyButton(page, 'late/hist').click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'View Key' }).waitFor();
    const viewPath = /\/web\/keys\/view\/late%2Fhist/;
    const { held, release } = await holdReads(page, viewPath);
    await apiPut(url, 'late/hist', 'v2'); // the open view follows its key: a refresh, held above
    await within10s(held, 'the write did not start a live refresh of the open view');
    // listening while the refresh is held, so its answer cannot come before the listener
    const handled = handledAnswer(page, '/web/keys/view/');
    // meanwhile the user opens the key's history
    await dialog.getByRole('button', { name: 'History' }).click();
    await dialog.getByRole('heading', { name: 'History' }).waitFor();
    release();
    await within10s(handled, 'the held live refresh did not answer');
    // the older answer, the view, did not replace the history the user asked for after it
    expect(await dialog.getByRole('heading', { name: 'History' }).count()).toBe(1);
    expect(await dialog.getByRole('heading', { name: 'View Key' }).count()).toBe(0);
    await page.unroute(viewPath);
  });

  it('keeps an open view on its key, and tells an open edit form at once, with a diff and a merge', async () => {
    await apiPut(url, 'live/conf', 'host = a\nport = 1\nmode = x\n', 'ini');
    const page = await open('/?search=live/conf');
    await keyButton(page, 'live/conf').click();
    await page.getByRole('dialog').getByText('port = 1').waitFor();
    await apiPut(url, 'live/conf', 'host = a\nport = 2\nmode = x\n', 'ini');
    await page.getByRole('dialog').getByText('port = 2').waitFor();

    await page.getByRole('dialog').getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('dialog').getByRole('heading', { name: 'Edit Key' }).waitFor();
    await page.getByLabel('Value', { exact: true }).fill('host = a\nport = 2\nmode = mine\n');
    await apiPut(url, 'live/conf', 'host = theirs\nport = 2\nmode = x\n', 'ini');
    // the form says so before anything is saved
    const notice = page.getByRole('dialog').getByRole('alert').filter({ hasText: 'changed' });
    await notice.getByText('Nothing is saved yet').waitFor();
    await notice.getByRole('button', { name: 'Review changes' }).click();
    await page.getByRole('dialog').getByText('Conflict detected:').waitFor();
    const diff = page.getByRole('dialog').locator('.diff-table');
    await diff.locator('tr.diff-old', { hasText: 'host = theirs' }).waitFor();
    await diff.locator('tr.diff-new', { hasText: 'mode = mine' }).waitFor();
    await page.getByRole('button', { name: 'Edit merged' }).click();
    await page.getByRole('dialog').getByText('both sets of changes are in').waitFor();
    expect(await page.getByLabel('Value', { exact: true }).inputValue()).toBe('host = theirs\nport = 2\nmode = mine\n');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    expect((await apiGet(url, 'live/conf')).body.toString()).toBe('host = theirs\nport = 2\nmode = mine\n');
  });

  it('gives the second of two browsers saving the same key the conflict with a diff, not a silent overwrite', async () => {
    await apiPut(url, 'two/k', 'line one\nline two\n');
    const [a, b] = [await open('/?search=two/'), await open('/?search=two/')];
    for (const page of [a, b]) {
      await page.getByRole('button', { name: 'Edit two/k' }).click();
      await page.getByRole('dialog').getByRole('heading', { name: 'Edit Key' }).waitFor();
    }
    await a.getByLabel('Value', { exact: true }).fill('line one\nline two by A\n');
    await a.getByRole('button', { name: 'Save' }).click();
    await a.getByRole('dialog').waitFor({ state: 'hidden' });
    await b.getByLabel('Value', { exact: true }).fill('line one by B\nline two\n');
    await b.getByRole('button', { name: 'Save' }).click();
    await b.getByRole('dialog').getByText('Conflict detected:').waitFor();
    await b.locator('.diff-table tr.diff-old', { hasText: 'line two by A' }).waitFor();
    expect((await apiGet(url, 'two/k')).body.toString()).toBe('line one\nline two by A\n');
    await b.getByRole('button', { name: 'Overwrite (keep mine)' }).click();
    await b.getByRole('dialog').waitFor({ state: 'hidden' });
    expect((await apiGet(url, 'two/k')).body.toString()).toBe('line one by B\nline two\n');
  });

  it('shows the diff of a version against the one before or any two chosen, and rolls back conditionally', async () => {
    for (const v of ['a: 1\n', 'a: 2\n', 'a: 2\nb: 3\n']) await apiPut(url, 'hist/diff', v, 'yaml');
    const page = await open('/?search=hist/diff');
    await keyButton(page, 'hist/diff').click();
    await page.getByRole('dialog').getByRole('button', { name: 'History' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('heading', { name: 'History' }).waitFor();
    await dialog.getByRole('button', { name: /^Diff revision/ }).first().click();
    await dialog.locator('tr.diff-new', { hasText: 'b: 3' }).waitFor();
    await dialog.getByRole('button', { name: 'Back to history' }).click();
    await dialog.getByRole('button', { name: 'Compare selected' }).waitFor();
    const revisions = await dialog.locator('tbody td.mono').allInnerTexts(); // as shown: the time under it is for phones
    expect(revisions).toHaveLength(3);
    const [newest, , oldest] = revisions.map((r) => r.slice(1));
    await dialog.getByRole('radio', { name: `Compare from revision ${oldest}` }).check();
    await dialog.getByRole('radio', { name: `Compare to revision ${newest}` }).check();
    await dialog.getByRole('button', { name: 'Compare selected' }).click();
    await dialog.getByRole('heading', { name: `Changes #${oldest} → #${newest}` }).waitFor();
    await dialog.locator('tr.diff-old', { hasText: 'a: 1' }).waitFor();
    await dialog.getByRole('button', { name: 'Back to history' }).click();
    // the history is shown (read before the write below: else it would show the write as current)
    await dialog.getByRole('heading', { name: 'History' }).waitFor();
    // a change after the history was opened: the rollback is refused, nothing overwritten
    await apiPut(url, 'hist/diff', 'changed: meanwhile\n', 'yaml');
    await dialog.getByRole('button', { name: `Restore revision ${oldest}` }).click();
    await page.getByRole('status').getByText(/changed since its history was opened/).waitFor();
    expect((await apiGet(url, 'hist/diff')).body.toString()).toBe('changed: meanwhile\n');
  });

  it('browses keys as folders with counts and breadcrumbs, while search spans everything', async () => {
    for (const key of ['tree/a/one', 'tree/a/two', 'tree/b/three', 'tree/top']) await apiPut(url, key, 'x');
    const page = await open('/');
    await page.getByRole('button', { name: 'Browse folders' }).click();
    const folders = page.getByRole('list', { name: 'Folders' });
    await folders.getByRole('button', { name: /^tree\// }).click();
    await page.getByRole('navigation', { name: 'Folder' }).getByText('tree', { exact: true }).waitFor();
    await folders.getByRole('button', { name: 'a/ 2 keys' }).waitFor();
    await folders.getByRole('button', { name: 'b/ 1 key' }).waitFor();
    await keyButton(page, 'tree/top').waitFor();
    expect(await keyButton(page, 'tree/a/one').count()).toBe(0);
    await folders.getByRole('button', { name: 'a/ 2 keys' }).click();
    await keyButton(page, 'tree/a/one').waitFor();
    await page.getByRole('searchbox', { name: 'Search keys' }).fill('three');
    await keyButton(page, 'tree/b/three').waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Show the flat list' }).waitFor(); // the choice is a cookie
  });

  it('works from the keyboard: / searches, n opens a new key, Ctrl+S saves, Esc closes and focus returns', async () => {
    const page = await open('/');
    await page.locator('body').press('/');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('search-input');
    await page.locator('body').click({ position: { x: 5, y: 400 } });
    await page.keyboard.press('n');
    await page.getByRole('dialog').getByRole('heading', { name: 'New Key' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('key-input');
    await page.keyboard.type('kbd/key');
    await page.keyboard.press('Tab');
    await page.keyboard.type('typed only');
    await page.keyboard.press('Control+s');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    expect((await apiGet(url, 'kbd/key')).body.toString()).toBe('typed only');
    await keyButton(page, 'kbd/key').focus();
    const opener = await keyButton(page, 'kbd/key').elementHandle();
    await page.keyboard.press('Enter');
    await page.getByRole('dialog').getByRole('heading', { name: 'View Key' }).waitFor();
    // a change elsewhere refreshes the list behind the modal: the button that opened it is replaced
    await apiPut(url, 'kbd/other', 'x');
    await page.waitForFunction(() => document.getElementById('keys-table')?.textContent?.includes('kbd/other'));
    expect(await opener?.evaluate((el) => el.isConnected)).toBe(false);
    await page.keyboard.press('Escape');
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    // the dialog's close event (which returns the focus) comes a task after it is hidden
    await page.waitForFunction(() => document.activeElement?.textContent === 'kbd/key', undefined, { timeout: 5000 });
  });

  it('copies a key and its value with one click, and imports a .env file into a folder after a preview', async () => {
    await apiPut(url, 'copy/me', '{"copied": true}', 'json');
    const page = await open('/?search=copy/me');
    await pages.at(-1)?.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url });
    await keyButton(page, 'copy/me').click();
    await page.getByRole('button', { name: 'Copy value' }).click();
    await page.getByRole('status').getByText('Copied value').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('{"copied": true}');
    await page.getByRole('button', { name: 'Copy key' }).click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('copy/me');
    await page.keyboard.press('Escape');

    await apiPut(url, 'imp/PORT', '1');
    await page.getByRole('searchbox').fill('');
    await page.getByRole('button', { name: 'Import…' }).click();
    await page.getByRole('dialog').getByRole('heading', { name: 'Import keys' }).waitFor();
    await page.getByLabel('File (.env or a JSON export)').setInputFiles({ name: 'svc.env', mimeType: 'text/plain', buffer: Buffer.from('PORT=2\nHOST=example\n') });
    await page.getByText('Read: svc.env').waitFor();
    await page.getByLabel('Into prefix').fill('imp');
    await page.getByRole('button', { name: 'Preview' }).click();
    await page.getByRole('dialog').getByText('1 to create, 1 to update, 0 left alone').waitFor();
    expect((await apiGet(url, 'imp/HOST')).status).toBe(404);
    await page.getByRole('button', { name: 'Apply 2 changes' }).click();
    await page.getByRole('dialog').waitFor({ state: 'hidden' });
    await page.getByRole('status').getByText('Imported: 1 created, 1 updated, 0 left alone').waitFor();
    expect((await apiGet(url, 'imp/PORT')).body.toString()).toBe('2');
    expect((await apiGet(url, 'imp/HOST')).body.toString()).toBe('example');
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'JSON' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('stash.json');
  });
});

const ZK_FIXTURES = join(import.meta.dirname, '..', '..', '..', 'client', 'test', 'fixtures', 'zk');
const PASSPHRASE = 'cross-compat-key-16';

describe.skipIf(!RUN_BROWSER_TESTS)('zero-knowledge values in the browser', () => {
  let server: TestServer;
  let browser: Browser;
  let watched: WatchedPage;

  beforeAll(async () => {
    server = await startTestServer();
    browser = await launchBrowser();
    for (const client of ['go', 'python', 'typescript', 'rust']) {
      await apiPut(server.url, `zk/${client}`, readFileSync(join(ZK_FIXTURES, `${client}_encrypted.bin`), 'utf8'));
    }
  });
  afterAll(async () => {
    await watched?.close();
    await browser?.close();
    await server?.close();
  });

  it('opens what the Go, Python, TypeScript and Rust clients encrypted, edits it, and sends neither passphrase nor plaintext', async () => {
    watched = await openPage(browser);
    const { page } = watched;
    const sent: string[] = [];
    page.on('request', (req) => sent.push(`${req.method()} ${req.url()}\n${JSON.stringify(req.headers())}\n${req.postData() ?? ''}`));
    await page.goto(`${server.url}/?search=zk/`);
    const dialog = page.getByRole('dialog');
    const plaintexts: string[] = [];
    for (const client of ['go', 'python', 'typescript', 'rust']) {
      const plain = readFileSync(join(ZK_FIXTURES, `${client}_plaintext.txt`), 'utf8');
      plaintexts.push(plain);
      await page.getByRole('button', { name: `zk/${client}`, exact: true }).click();
      await dialog.getByRole('heading', { name: 'View Key' }).waitFor();
      if (client === 'go') {
        await page.getByLabel('Passphrase').fill('not-the-passphrase-at-all');
        await dialog.getByRole('button', { name: 'Open', exact: true }).click();
        await dialog.getByText('Cannot open it').waitFor();
        await page.getByLabel('Passphrase').fill(PASSPHRASE);
        await dialog.getByRole('button', { name: 'Open', exact: true }).click();
      }
      // once opened in this page, the next value opens without asking again
      await dialog.getByLabel('Decrypted value', { exact: true }).getByText(plain, { exact: true }).waitFor({ timeout: 20_000 });
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'hidden' });
    }
    await page.getByRole('button', { name: 'zk/rust', exact: true }).click();
    await dialog.getByRole('button', { name: 'Edit decrypted value' }).click();
    await dialog.getByRole('heading', { name: 'Edit Key' }).waitFor();
    const value = page.getByLabel('Value', { exact: true });
    expect(await value.inputValue()).toBe(plaintexts[3]);
    const edited = 'edited in the browser: 🔐 new secret value';
    await value.fill(edited);
    await page.getByRole('button', { name: 'Save' }).click();
    await dialog.waitFor({ state: 'hidden' });

    const stored = (await apiGet(server.url, 'zk/rust')).body.toString();
    expect(stored.startsWith('$ZK$')).toBe(true);
    const { ZkCrypto } = await import('@stash/client');
    expect(new TextDecoder().decode(await new ZkCrypto(PASSPHRASE).decrypt(stored))).toBe(edited);
    // no request of the page carried the passphrase or any plaintext, in its URL, headers or body
    const forbidden = [PASSPHRASE, 'not-the-passphrase-at-all', edited, ...plaintexts];
    for (const secret of forbidden) {
      for (const variant of [secret, encodeURIComponent(secret), new URLSearchParams({ v: secret }).toString().slice(2)]) {
        expect(sent.filter((r) => r.includes(variant))).toEqual([]);
      }
    }
    expect(sent.some((r) => r.startsWith('PUT ') && r.includes('%24ZK%24'))).toBe(true);

    // forget: the decrypted value leaves the page
    await page.getByRole('button', { name: 'zk/go', exact: true }).click();
    await dialog.getByLabel('Decrypted value', { exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Forget passphrase' }).click();
    await dialog.getByLabel('Passphrase').waitFor();
    expect(await dialog.getByLabel('Decrypted value', { exact: true }).count()).toBe(0);
    expect(unexpected(watched.problems)).toEqual([]);
  });
});

const AUTH = join(import.meta.dirname, '..', 'fixtures', 'auth-web.yml');

describe.skipIf(!RUN_BROWSER_TESTS)('live updates: permissions, authors and a server restart', () => {
  let browser: Browser;
  const servers: TestServer[] = [];
  const cleanups: (() => void)[] = [];
  const pages: WatchedPage[] = [];
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    for (const p of pages) await p.close();
    await browser?.close();
    for (const s of servers) await s.close();
    for (const c of cleanups) c();
  });

  it('follows only what the user may read, with who changed it', async () => {
    const server = await startTestServer(['--auth.file', AUTH]);
    servers.push(server);
    const watched = await openPage(browser);
    pages.push(watched);
    const { page } = watched;
    await signIn(page, server.url, 'alice', 'alice-pw');
    await page.locator('#live-status.is-live').waitFor();
    const admin = { 'x-auth-token': 'web-admin-token' };
    await apiPut(server.url, 'ops/hidden', 'not for alice', 'text', admin);
    await apiPut(server.url, 'app/visible', 'for alice', 'text', admin);
    await page.getByRole('button', { name: 'app/visible', exact: true }).waitFor();
    await page.locator('.live-badge').getByText('created by token:web-****').waitFor();
    expect(await page.getByText('ops/hidden').count()).toBe(0);
    expect(unexpected(watched.problems)).toEqual([]);
  });

  it('reconnects after the server restarts and gets the change it missed meanwhile', async () => {
    const dir = makeTempDir('stash-restart-');
    const db = join(dir, 'stash.db');
    const first = await startTestServer(['--db', db]);
    const port = new URL(first.url).port;
    const watched = await openPage(browser);
    pages.push(watched);
    const { page } = watched;
    await page.goto(`${first.url}/`);
    await page.locator('#live-status.is-live').waitFor();
    await first.close(); // the server goes away (the database file stays)
    await page.locator('#live-status:not(.is-live)').waitFor();
    const second = await startTestServer(['--db', db, '--server.address', `127.0.0.1:${port}`]);
    servers.push(second);
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // written before the page is back: it arrives by Last-Event-ID replay, not live
    await apiPut(second.url, 'restart/missed', 'while you were away');
    await page.getByRole('button', { name: 'restart/missed', exact: true }).waitFor({ timeout: 10_000 });
    await page.locator('#live-status.is-live').waitFor();
    expect(unexpected(watched.problems).filter((p) => !p.includes('ERR_CONNECTION_REFUSED') && !p.includes('EventSource'))).toEqual([]);
  });
});
