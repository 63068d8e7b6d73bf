import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (never a downloaded browser); tests skip with a printed reason without it. */
export const CHROMIUM = process.env['STASH_TEST_CHROMIUM'] ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) console.warn(`web UI browser tests skipped: no Chromium at ${CHROMIUM} (set STASH_TEST_CHROMIUM)`);

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
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
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  return { page, context, problems, close: () => context.close() };
}

/** Console errors the browser logs for HTTP errors the test provoked on purpose. */
export function unexpected(problems: readonly string[]): string[] {
  return problems.filter((p) => !/Failed to load resource: the server responded with a status of (403|409|422)/.test(p));
}
