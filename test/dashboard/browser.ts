import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { waitFor } from '../helpers/server.js';

/** Debian's Chromium, installed by scripts/test.mjs when missing. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function launch(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
}

/** A page that records what a person would call errors: console errors, uncaught exceptions. */
export interface Watched {
  page: Page;
  errors: string[];
}

export async function watchedPage(browser: Browser, width = 1400, height = 900): Promise<Watched> {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()} ${m.location()?.url ?? ''}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e instanceof Error ? e.message : String(e)}`));
  page.on('requestfailed', (r) => {
    // an event stream closed by navigation is no failure
    if (!r.url().includes('/events')) errors.push(`request failed: ${r.url()} ${r.failure()?.errorText ?? ''}`);
  });
  return { page, errors };
}

/** Open a view by its hash route and wait until it shows real data (its `data-ready` mark). */
export async function openView(page: Page, base: string, view: string, query = ''): Promise<void> {
  await page.goto(`${base}/#/${view}${query ? '?' + query : ''}`, { waitUntil: 'load' });
  await page.waitForSelector(`.view[data-view="${view}"][data-ready]`, { timeout: 10_000 });
}

/** Text of the first element matching `selector`, or null. */
export function textOf(page: Page, selector: string): Promise<string | null> {
  return page.$eval(selector, (el) => el.textContent).catch(() => null);
}

/** Poll a condition evaluated in the page until it holds (deadline, no fixed sleeps). */
export async function waitInPage(page: Page, fn: string, timeoutMs = 10_000, what = 'page condition'): Promise<void> {
  await page.waitForFunction(fn, { timeout: timeoutMs, polling: 50 }).catch((e: unknown) => {
    throw new Error(`timed out waiting for ${what}: ${e instanceof Error ? e.message : String(e)}`);
  });
}

export { waitFor };

/**
 * Click what `selector` names now: views redraw as data arrives, and an element replaced between
 * finding and clicking it is found again (a click never lands on a detached node).
 */
export async function clickFresh(page: Page, selector: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await page.waitForSelector(selector, { timeout: Math.max(1, deadline - Date.now()) });
      await page.click(selector);
      return;
    } catch (e) {
      if (Date.now() > deadline || !/detached|not clickable|no node/i.test(String(e))) throw e;
    }
  }
}
