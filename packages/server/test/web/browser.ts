import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { chooseChromium, chromiumExecutable } from '../helpers/chromium.js';

/**
 * Debian's Chromium (never a downloaded browser): without it and without STASH_TEST_CHROMIUM the
 * tests skip with a printed reason; a STASH_TEST_CHROMIUM naming a missing file fails them.
 */
const CHROMIUM = chooseChromium('web UI browser tests');
export const RUN_BROWSER_TESTS = CHROMIUM.run;

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumExecutable(CHROMIUM),
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page that records what must never happen: script dialogs, page errors, console errors (CSP violations among them). */
export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** alert/prompt dialogs and uncaught errors seen so far */
  problems: string[];
  close(): Promise<void>;
}

export async function openPage(
  browser: Browser,
  options: { colorScheme?: 'light' | 'dark'; width?: number; height?: number } = {},
): Promise<WatchedPage> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.colorScheme ?? 'light',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000); // a clear failure well inside the test's own timeout
  const problems: string[] = [];
  page.on('dialog', (dialog) => {
    problems.push(`${dialog.type()} dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  // HTTP errors are reported with their URL by the response event; the console repeats them without one
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(`console error: ${msg.text()}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()} ${res.request().method()} ${res.url()}`);
  });
  return { page, context, problems, close: () => context.close() };
}

/** Problems other than the HTTP answers a test provoked on purpose (refusals, conflicts, format errors, failed logins). */
export function unexpected(problems: readonly string[], expected: readonly number[] = [401, 403, 409, 422]): string[] {
  // htmx logs the same refusals to the console ("Response Status Error Code 409 from ...")
  return problems.filter(
    (p) => !expected.some((status) => p.startsWith(`HTTP ${status} `) || p.startsWith(`console error: Response Status Error Code ${status} `)),
  );
}

/** Sign in on the login page under `base` (the server's URL with its base path) and wait for the key list. */
export async function signIn(page: Page, base: string, user: string, password: string): Promise<void> {
  await page.goto(`${base}/`);
  await page.getByRole('button', { name: 'Login' }).waitFor();
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Login' }).click();
  await page.getByRole('searchbox', { name: 'Search keys' }).waitFor();
}
