import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { type TestAssent, startTestAssent } from './support/assent.ts';
import { createTestCustomer } from './support/customers.ts';
import { createTestTpp, pushAuthorizationRequest } from './support/tpp.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve('test-results', 'browser');

describe('the authorization pages in a real browser (headless Chromium)', { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)` }, () => {
  let assent: TestAssent;
  before(async () => {
    assent = await startTestAssent();
    await mkdir(SCREENSHOTS, { recursive: true });
  });
  after(async () => { await assent?.stop(); });

  test('login -> one-time code -> consent -> approve, on a phone-sized screen, without a CSP violation', async () => {
    const tpp = await createTestTpp(assent);
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp);
    const userDataDir = await mkdtemp(path.join(tmpdir(), 'assent-chromium-'));
    const context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      ignoreHTTPSErrors: true,
      viewport: { width: 390, height: 844 },
      isMobile: true,
      javaScriptEnabled: false,
    });
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      const violations: string[] = [];
      page.on('console', (message) => { if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text()); });
      // The TPP is not reachable from here: answer its redirect_uri and keep the URL the customer lands on.
      let callback: URL | undefined;
      await context.route(`${tpp.redirectUri}**`, async (route) => {
        callback = new URL(route.request().url());
        await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>TPP</title><h1>Back at the TPP</h1>' });
      });

      await page.goto(request.url.href);
      assert.equal(await page.title(), 'Sign in · Assent');
      await page.getByLabel('Username').fill(customer.username);
      await page.getByLabel('Password').fill('not the password');
      await page.getByRole('button', { name: 'Continue' }).click();
      assert.equal(await page.locator('#password-error').textContent(), 'The username or password is not correct.');
      assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
      await page.screenshot({ path: path.join(SCREENSHOTS, '01-login-error.png'), fullPage: true });

      await page.getByLabel('Password').fill(customer.password);
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByLabel('One-time code').waitFor();
      assert.equal(await page.getByLabel('One-time code').getAttribute('autocomplete'), 'one-time-code');
      const main = await page.locator('main').boundingBox();
      assert.ok(main && main.x >= 0 && main.x + main.width <= 390, `the page fits a phone's width: ${JSON.stringify(main)}`);
      await page.screenshot({ path: path.join(SCREENSHOTS, '02-one-time-code.png'), fullPage: true });

      await page.getByLabel('One-time code').fill(customer.nextCode());
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.locator('form[action$="/confirm"]').waitFor();
      assert.equal(await page.title(), 'Review access · Assent');
      await page.screenshot({ path: path.join(SCREENSHOTS, '03-consent.png'), fullPage: true });

      // When the consent page offers a choice of accounts, pick the first one.
      const choices = page.locator('form[action$="/confirm"] input[type="checkbox"], form[action$="/confirm"] input[type="radio"]');
      if ((await choices.count()) > 0) await choices.first().check();
      await page.locator('form[action$="/confirm"] button[type="submit"]').click();
      await page.waitForURL(`${tpp.redirectUri}**`);
      await page.screenshot({ path: path.join(SCREENSHOTS, '04-back-at-tpp.png') });
      assert.ok(callback, 'the browser reached the TPP');
      assert.ok(callback.searchParams.get('code'), `the TPP receives a code: ${callback}`);
      assert.equal(callback.searchParams.get('state'), request.state);
      assert.deepEqual(violations, []);
    } finally {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    }
  });
});
