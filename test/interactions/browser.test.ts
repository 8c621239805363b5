import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { getConsent } from '../../src/consents/consent-service.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, DOMESTIC_PAYMENT, domesticPaymentRequest } from '../support/consent-api.ts';
import { createTestCustomer, type TestCustomer } from '../support/customers.ts';
import { pushAuthorizationRequest, type TestTpp } from '../support/tpp.ts';
import { customerWithAccounts, intentClaims } from '../support/granted-consents.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SCREENSHOTS = path.resolve('test-results', 'browser');
const LOGO = 'https://tpp.example/logo.svg';
const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="8" fill="#2a7d4f"/><text x="24" y="31" font-size="20" text-anchor="middle" fill="#fff" font-family="sans-serif">BB</text></svg>';

interface Session {
  context: BrowserContext;
  page: Page;
  /** CSP violations reported on the console. */
  violations: string[];
  /** The URL the TPP's redirect_uri received, once reached. */
  callback(): URL | undefined;
  close(): Promise<void>;
}

/** A fresh headless Chromium with JavaScript off, phone-sized; the TPP's redirect_uri and logo are answered locally. */
async function openBrowser(tpp: TestTpp): Promise<Session> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), 'assent-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
    ignoreHTTPSErrors: true,
    viewport: { width: 390, height: 844 },
    isMobile: true,
    javaScriptEnabled: false,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  let callback: URL | undefined;
  await context.route(`${tpp.redirectUri}**`, async (route) => {
    callback = new URL(route.request().url());
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>TPP</title><h1>Back at the TPP</h1>' });
  });
  await context.route(LOGO, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_SVG }));
  return {
    context,
    page,
    violations,
    callback: () => callback,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Password and one-time-code pages, leaving the browser on the code page. */
async function signInToCodeStep(page: Page, url: URL, customer: TestCustomer) {
  await page.goto(url.href);
  await page.getByLabel('Username').fill(customer.username);
  await page.getByLabel('Password').fill(customer.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('One-time code').waitFor();
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, name), fullPage: true });

/** The label -> value pairs of the payment box on the page. */
async function paymentShown(page: Page) {
  const labels = await page.locator('dl.payment dt').allTextContents();
  const values = await page.locator('dl.payment dd').allTextContents();
  return Object.fromEntries(labels.map((label, index) => [label, values[index]]));
}

describe(
  'the authorization pages in a real browser (headless Chromium)',
  { skip: !existsSync(CHROMIUM) && `no Chromium at ${CHROMIUM} (apt-get install chromium)` },
  () => {
    const assent = useAssent();
    const tpp = useTpp(assent, { metadata: { client_name: 'Budget Buddy', logo_uri: LOGO } });
    const api = useConsentApi(assent, tpp);
    before(async () => {
      await mkdir(SCREENSHOTS, { recursive: true });
    });

    test('login -> one-time code -> consent -> approve, on a phone-sized screen, without a CSP violation', async () => {
      const customer = await createTestCustomer(assent.db);
      const request = await pushAuthorizationRequest(tpp);
      const browser = await openBrowser(tpp);
      try {
        const { page } = browser;
        await page.goto(request.url.href);
        assert.equal(await page.title(), 'Sign in · Assent Demo Bank');
        await page.getByLabel('Username').fill(customer.username);
        await page.getByLabel('Password').fill('not the password');
        await page.getByRole('button', { name: 'Continue' }).click();
        assert.equal(await page.locator('#password-error').textContent(), 'The username or password is not correct.');
        assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
        await shot(page, '01-login-error.png');

        await page.getByLabel('Password').fill(customer.password);
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.getByLabel('One-time code').waitFor();
        assert.equal(await page.getByLabel('One-time code').getAttribute('autocomplete'), 'one-time-code');
        const main = await page.locator('main').boundingBox();
        assert.ok(main && main.x >= 0 && main.x + main.width <= 390, `the page fits a phone's width: ${JSON.stringify(main)}`);
        await shot(page, '02-one-time-code.png');

        await page.getByLabel('One-time code').fill(customer.nextCode());
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.locator('form[action$="/confirm"]').waitFor();
        assert.equal(await page.title(), 'Review access · Assent Demo Bank');
        await shot(page, '03-consent.png');

        await page.getByRole('button', { name: 'Approve' }).click();
        await page.waitForURL(`${tpp.redirectUri}**`);
        await page.screenshot({ path: path.join(SCREENSHOTS, '04-back-at-tpp.png') });
        const callback = browser.callback();
        assert.ok(callback, 'the browser reached the TPP');
        assert.ok(callback.searchParams.get('code'), `the TPP receives a code: ${callback}`);
        assert.equal(callback.searchParams.get('state'), request.state);
        assert.deepEqual(browser.violations, []);
      } finally {
        await browser.close();
      }
    });

    test('an account-access consent: the consent page shows the TPP, the grouped permissions and the accounts; approving authorises it', async () => {
      const { customer, current, savings } = await customerWithAccounts(assent);
      const body = accountAccessRequest({
        Permissions: [
          'ReadAccountsDetail',
          'ReadBalances',
          'ReadTransactionsDetail',
          'ReadTransactionsCredits',
          'ReadTransactionsDebits',
          'ReadStandingOrdersBasic',
        ],
        ExpirationDateTime: '2027-02-23T12:00:00Z',
        TransactionFromDateTime: '2026-01-01T00:00:00Z',
        TransactionToDateTime: '2026-06-30T12:00:00Z',
      });
      const consentId = ((await api.call('POST', ACCOUNT_ACCESS, { body })).body as { Data: { ConsentId: string } }).Data.ConsentId;
      const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });
      const browser = await openBrowser(tpp);
      try {
        const { page } = browser;
        await signInToCodeStep(page, request.url, customer);
        assert.equal(await page.locator('dl.payment').count(), 0, 'no payment on an account consent');
        await shot(page, '05-account-consent-code.png');
        await page.getByLabel('One-time code').fill(customer.nextCode());
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.locator('form[action$="/confirm"]').waitFor();

        assert.equal(await page.locator('h1').textContent(), 'Budget Buddy wants to see information about your accounts');
        const logo = page.getByRole('img', { name: 'Budget Buddy logo' });
        assert.equal(await logo.getAttribute('src'), LOGO);
        const loaded = await logo.evaluate((element) => {
          const image = element as unknown as { complete: boolean; naturalWidth: number };
          return image.complete && image.naturalWidth > 0;
        });
        assert.ok(loaded, 'the logo loaded under the CSP');
        assert.deepEqual(await page.locator('.permission-group h3').allTextContents(), [
          'Your account details',
          'Your balances',
          'Your transactions from 1 January 2026 to 30 June 2026',
          'Your direct debits, standing orders and scheduled payments',
        ]);
        assert.equal(await page.locator('.duration').textContent(), 'Until 23 February 2027, unless you cancel it sooner.');
        await shot(page, '06-account-consent.png');

        await page.getByRole('checkbox', { name: current.name }).check();
        await page.getByRole('checkbox', { name: savings.name }).check();
        await page.getByRole('button', { name: 'Approve' }).click();
        await page.waitForURL(`${tpp.redirectUri}**`);
        assert.ok(browser.callback()?.searchParams.get('code'), `the TPP receives a code: ${browser.callback()}`);
        const consent = await getConsent(assent.db, consentId);
        assert.equal(consent?.status, 'Authorised');
        assert.deepEqual(consent?.selectedAccountIds.toSorted(), [current.id, savings.id].toSorted());
        assert.deepEqual(browser.violations, []);
      } finally {
        await browser.close();
      }
    });

    test('a domestic payment: the code step shows amount, currency and payee, the consent page the same; approving authorises it', async () => {
      const { customer, current } = await customerWithAccounts(assent);
      const created = await api.call('POST', DOMESTIC_PAYMENT, {
        body: domesticPaymentRequest(),
        headers: { 'x-idempotency-key': crypto.randomUUID() },
      });
      const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
      const request = await pushAuthorizationRequest(tpp, { scope: 'openid payments', claims: intentClaims(consentId) });
      const expected = {
        Amount: '£165.88',
        Currency: 'GBP (British Pound)',
        To: 'ACME Inc',
        'Payee account': 'sort code 08-08-00, account 21325698',
        Reference: 'FRESCO-101',
      };
      const browser = await openBrowser(tpp);
      try {
        const { page } = browser;
        await signInToCodeStep(page, request.url, customer);
        assert.deepEqual(await paymentShown(page), expected, 'the code step shows the payment it approves');
        await shot(page, '07-payment-code.png');
        await page.getByLabel('One-time code').fill(customer.nextCode());
        await page.getByRole('button', { name: 'Continue' }).click();
        await page.locator('form[action$="/confirm"]').waitFor();

        assert.equal(await page.locator('h1').textContent(), 'Budget Buddy wants to make a payment from your account');
        assert.deepEqual(await paymentShown(page), expected);
        assert.equal(await page.locator('legend').textContent(), 'Choose the account to pay from');
        assert.equal(await page.getByRole('radio').count(), 2, 'both GBP accounts can pay');
        await page.getByRole('radio', { name: current.name }).check();
        await shot(page, '08-payment-consent.png');

        await page.getByRole('button', { name: 'Approve' }).click();
        await page.waitForURL(`${tpp.redirectUri}**`);
        await page.screenshot({ path: path.join(SCREENSHOTS, '09-payment-back-at-tpp.png') });
        assert.ok(browser.callback()?.searchParams.get('code'), `the TPP receives a code: ${browser.callback()}`);
        const consent = await getConsent(assent.db, consentId);
        assert.equal(consent?.status, 'Authorised');
        assert.deepEqual(consent?.selectedAccountIds, [current.id]);
        assert.deepEqual(browser.violations, []);
      } finally {
        await browser.close();
      }
    });
  },
);
