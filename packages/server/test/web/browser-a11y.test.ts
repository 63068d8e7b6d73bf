import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { RUN_BROWSER_TESTS, launchBrowser, openPage, signIn } from './browser.js';
import { apiPut } from './web-helpers.js';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const AUTH = join(import.meta.dirname, '..', 'fixtures', 'auth-web.yml');
const ADMIN = { 'x-auth-token': 'web-admin-token' };

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** axe-core in the page (evaluated over the DevTools protocol, which the page's CSP does not govern). */
/** Esc, and wait until the dialog has closed: until then the page behind it is inert. */
async function closeModal(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.locator('dialog[open]').waitFor({ state: 'detached' });
}

async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    return (await axe.run(document, { resultTypes: ['violations'] })).violations;
  });
  return violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

describe.skipIf(!RUN_BROWSER_TESTS)('web UI accessibility (axe-core)', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    server = await startTestServer(['--auth.file', AUTH, '--secrets.key', 'a11y-secrets-key-16b', '--audit.enabled']);
    await apiPut(server.url, 'app/config', '{"a": [1, 2], "b": "text"}', 'json', ADMIN);
    await apiPut(server.url, 'app/config', '{"a": [1, 2, 3]}', 'json', ADMIN);
    await apiPut(server.url, 'app/secrets/token', 'pw', 'text', ADMIN);
    await apiPut(server.url, 'app/zk', `$ZK$${Buffer.alloc(48, 2).toString('base64')}`, 'text', ADMIN);
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('fits every table on a phone, with no serious violation: the list, history, import preview and audit log need no sideways scroll', async () => {
    const long = 'app/a/rather/long/path/to/the/setting-with-a-long-name';
    for (const v of ['1', '2', '3']) await apiPut(server.url, long, v, 'text', ADMIN);
    const watched = await openPage(browser, { width: 375, height: 780 });
    const { page } = watched;
    // tables wider than what holds them: their content is cut off behind a sideways scroll
    const overflowing = (): Promise<string[]> =>
      page.locator('.table-wrap').evaluateAll((wraps) =>
        wraps.filter((w) => w.scrollWidth > w.clientWidth + 1).map((w) => `${w.querySelector('table')?.className ?? '?'}: ${w.scrollWidth} > ${w.clientWidth}`),
      );
    const found: Record<string, string[]> = {};
    try {
      await signIn(page, server.url, 'admin', 'admin-pw');
      await page.getByRole('button', { name: long, exact: true }).waitFor();
      found['list'] = [...(await overflowing()), ...(await seriousViolations(page))];
      await page.getByRole('button', { name: long, exact: true }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'History' }).click();
      await page.getByRole('dialog').getByRole('button', { name: /^Restore revision/ }).first().waitFor();
      found['history'] = [...(await overflowing()), ...(await seriousViolations(page))];
      await closeModal(page);
      await page.getByRole('button', { name: 'Import…' }).click();
      const env = 'A_RATHER_LONG_VARIABLE_NAME_FROM_A_DOT_ENV_FILE=1\nPORT=2\n';
      await page.getByLabel('File (.env or a JSON export)').setInputFiles({ name: 'svc.env', mimeType: 'text/plain', buffer: Buffer.from(env) });
      await page.getByText(/^Read: svc.env/).waitFor();
      await page.getByLabel('Into prefix').fill('app/imported/from/a/file');
      await page.getByRole('button', { name: 'Preview' }).click();
      await page.getByRole('dialog').locator('table.import-table').waitFor();
      found['import preview'] = [...(await overflowing()), ...(await seriousViolations(page))];
      await closeModal(page);
      await page.goto(`${server.url}/audit`);
      await page.locator('table.audit').waitFor();
      found['audit'] = [...(await overflowing()), ...(await seriousViolations(page))];
      // the filters wait behind "Filters" on a phone, so the entries come first; set, they show
      const keyFilter = page.getByLabel('Key or prefix');
      expect(await keyFilter.isVisible()).toBe(false);
      await page.getByText('Filters', { exact: true }).click();
      await keyFilter.fill('app/*');
      await page.getByRole('button', { name: 'Filter' }).click();
      await page.waitForURL(/[?&]key=app%2F\*/);
      await page.getByText('· 1 set').waitFor();
      expect(await keyFilter.inputValue()).toBe('app/*');
      expect(await keyFilter.isVisible()).toBe(true);
    } finally {
      await watched.close();
    }
    expect(found).toEqual({ list: [], history: [], 'import preview': [], audit: [] });
  });

  for (const scheme of ['light', 'dark'] as const) {
    it(`finds no serious or critical violation on the login, list, cards, view, edit, history, diff, zero-knowledge, folder and audit views (${scheme})`, async () => {
      const watched = await openPage(browser, { colorScheme: scheme });
      const { page } = watched;
      const found: Record<string, string[]> = {};
      try {
        await page.goto(`${server.url}/`);
        found['login'] = await seriousViolations(page);
        await page.getByLabel('Username').fill('admin');
        await page.getByLabel('Password').fill('admin-pw');
        await page.getByRole('button', { name: 'Login' }).click();
        await page.getByRole('button', { name: 'app/config', exact: true }).waitFor();
        found['list'] = await seriousViolations(page);
        await page.getByRole('button', { name: 'app/config', exact: true }).click();
        await page.getByRole('dialog').getByRole('heading', { name: 'View Key' }).waitFor();
        found['view'] = await seriousViolations(page);
        await page.getByRole('dialog').getByRole('button', { name: 'History' }).click();
        await page.getByRole('dialog').getByRole('heading', { name: 'History' }).waitFor();
        found['history'] = await seriousViolations(page);
        await closeModal(page);
        await page.getByRole('button', { name: 'Edit app/config' }).click();
        await page.getByRole('dialog').getByRole('heading', { name: 'Edit Key' }).waitFor();
        found['edit'] = await seriousViolations(page);
        await page.getByLabel('Value', { exact: true }).fill('{"broken":');
        await page.getByRole('button', { name: 'Save' }).click();
        await page.getByRole('dialog').getByRole('alert').waitFor();
        found['edit with error'] = await seriousViolations(page);
        await closeModal(page);
        await page.getByRole('button', { name: 'Switch to card view' }).click();
        await page.locator('ul.cards').waitFor();
        found['cards'] = await seriousViolations(page);
        await page.getByRole('button', { name: 'Switch to table view' }).click();
        await page.getByRole('button', { name: 'app/config', exact: true }).click();
        await page.getByRole('dialog').getByRole('button', { name: 'History' }).click();
        await page.getByRole('dialog').getByRole('button', { name: /^Diff revision/ }).first().click();
        await page.getByRole('dialog').locator('.diff-table').waitFor();
        found['diff'] = await seriousViolations(page);
        await closeModal(page);
        await page.getByRole('button', { name: 'app/zk', exact: true }).click();
        await page.getByRole('dialog').getByLabel('Passphrase').waitFor();
        found['zero-knowledge view'] = await seriousViolations(page);
        await closeModal(page);
        await page.getByRole('button', { name: 'Browse folders' }).click();
        await page.getByRole('list', { name: 'Folders' }).waitFor();
        found['folders'] = await seriousViolations(page);
        // the audit log, filtered through its form as a person would
        await page.getByRole('link', { name: 'Audit log' }).click();
        await page.getByRole('heading', { name: 'Audit log' }).waitFor();
        await page.getByLabel('Key or prefix').fill('app/*');
        await page.getByLabel('Action').selectOption('create');
        await page.getByRole('button', { name: 'Filter' }).click();
        await page.getByText(/^\d+ entr(y|ies), newest first$/).waitFor();
        expect(new URL(page.url()).searchParams.get('action')).toBe('create');
        expect(await page.locator('table.audit tbody tr').count()).toBeGreaterThan(0);
        for (const action of await page.locator('table.audit tbody td:nth-child(2)').allInnerTexts()) expect(action).toBe('create');
        found['audit'] = await seriousViolations(page);
      } finally {
        await watched.close();
      }
      expect(found).toEqual({
        login: [],
        list: [],
        view: [],
        history: [],
        edit: [],
        'edit with error': [],
        cards: [],
        diff: [],
        'zero-knowledge view': [],
        folders: [],
        audit: [],
      });
    });
  }
});
