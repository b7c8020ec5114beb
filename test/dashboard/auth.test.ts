import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'puppeteer-core';
import { startServer, type RunningServer } from '../helpers/server.js';
import { Api } from '../http/client.js';
import { launch, textOf, waitInPage, watchedPage } from './browser.js';

const TOKEN = 'dash-token-7f3a';

/** Refused requests are the point of this test: Chromium reports each 401 as a console error. */
const only401 = (errors: string[]) => errors.filter((e) => !/status of 401/.test(e));

describe('web dashboard with AUTH_TOKENS', () => {
  let server: RunningServer;
  let api: Api;
  let browser: Browser;

  before(async () => {
    server = await startServer({ AUTH_TOKENS: `other-token,${TOKEN}` });
    api = new Api(server.httpPort, TOKEN);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('the page asks for a token; a wrong one gets a clear message, the right one opens the dashboard for this tab', async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${api.base}/#/queues`, { waitUntil: 'load' });
    await page.waitForSelector('#login:not([hidden]) #login-token', { timeout: 10_000 });
    assert.equal(await page.$('.view'), null, 'no view before signing in');

    await page.type('#login-token', 'not-the-token');
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('#login-error:not([hidden])', { timeout: 10_000 });
    assert.match((await textOf(page, '#login-error'))!, /refused this token/);
    assert.equal(await page.evaluate('sessionStorage.getItem("flashq.token")'), null, 'a refused token is not kept');

    await page.$eval('#login-token', (el) => ((el as any).value = ''));
    await page.type('#login-token', TOKEN);
    await page.click('#login-form button[type="submit"]');
    await page.waitForSelector('.view[data-view="queues"][data-ready]', { timeout: 10_000 });
    assert.equal(await page.$eval('#login', (el) => (el as any).hidden as boolean), true);
    assert.equal(await page.evaluate('sessionStorage.getItem("flashq.token")'), TOKEN);
    assert.equal(await page.evaluate('localStorage.length'), 0, 'nothing outlives the tab');

    // the event stream carries the token as ?token= and goes live; a pushed job reaches the feed
    await page.goto(`${api.base}/#/events`, { waitUntil: 'load' });
    await page.waitForSelector('.view[data-view="events"][data-ready]', { timeout: 10_000 });
    await waitInPage(page, `document.querySelector('#stream-status')?.textContent === 'events: live'`, 10_000, 'stream live with the token');
    const job = await api.push('secure', { data: { x: 1 } });
    await page.waitForSelector(`tr[data-event="job.pushed"][data-job="${job.id}"]`, { timeout: 10_000 });

    // a reload in the same tab keeps the session; signing out forgets it
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('.view[data-view="events"][data-ready]', { timeout: 10_000 });
    await page.goto(`${api.base}/#/settings`, { waitUntil: 'load' });
    await page.waitForSelector('.view[data-view="settings"][data-ready]', { timeout: 10_000 });
    await page.click('button[data-action="sign-out"]');
    await page.waitForSelector('#login:not([hidden])', { timeout: 10_000 });
    assert.equal(await page.evaluate('sessionStorage.getItem("flashq.token")'), null);
    assert.deepEqual(only401(errors), []);
    await page.close();
  });

  test('a stored token the server no longer accepts brings the prompt back with a message, not a blank page', async () => {
    const { page, errors } = await watchedPage(browser);
    await page.goto(`${api.base}/#/overview`, { waitUntil: 'load' });
    await page.evaluate('sessionStorage.setItem("flashq.token", "revoked-token")');
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('#login:not([hidden]) #login-error:not([hidden])', { timeout: 10_000 });
    assert.match((await textOf(page, '#login-error'))!, /no longer accepted/);
    assert.deepEqual(only401(errors), []);
    await page.close();
  });
});
