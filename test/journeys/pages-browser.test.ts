import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { en } from '../../src/wording/catalogue-en.ts';
import { axeViolations, useChromium, seriousOnly } from '../support/browser.ts';
import {
  ACCOUNT_ACCESS,
  accountAccessRequest,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  domesticPaymentRequest,
} from '../support/consent-api.ts';
import { oneTimeCode, type TestCustomer } from '../support/customers.ts';
import { customerWithAccounts, grantConsent, intentClaims } from '../support/granted-consents.ts';
import { measureLayout } from '../support/layout.ts';
import { createTestTpp, pushAuthorizationRequest } from '../support/tpp.ts';
import { initiate, registerCibaTpp } from '../support/ciba.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

/**
 * Every customer page, in English with the default branding and in German with a bank's own
 * branding, at a phone's and a desktop's width, in Chromium: axe finds no serious violation, no text
 * block is squeezed, the page is no taller than its text warrants, no message key is left
 * untranslated (nor an English sentence on a German page), no CSP violation, and a screenshot is
 * kept under test-results/pages/. The flows use ids and form actions, not words, so the same steps
 * run in every language.
 */

const SCREENSHOTS = path.resolve('test-results', 'pages');
const WIDTHS = [
  { width: 375, height: 812 },
  { width: 1280, height: 800 },
] as const;
const TPP_LOGO = 'https://tpp.example/logo.svg';
const BANK_LOGO = 'https://bank.example/logo.svg';
const SVG = (fill: string) =>
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="8" fill="${fill}"/></svg>`;

/** The longest fixed stretch of each English sentence (placeholders cut out), where it is long enough to be telling. */
const ENGLISH_FRAGMENTS = Object.values(en)
  .map(
    (sentence) =>
      sentence
        .split(/\{\w+\}/)
        .map((part) => part.trim())
        .toSorted((a, b) => b.length - a.length)[0] ?? '',
  )
  .filter((fragment) => fragment.length >= 18);

/** Clicks the submit button of the page's form posting to `.../<action>`. */
const submit = (page: Page, action: string) => page.locator(`form[action$="/${action}"] button[type="submit"]`).first().click();

async function signIn(page: Page, customer: TestCustomer, password = customer.password) {
  await page.locator('#username').fill(customer.username);
  await page.locator('#password').fill(password);
  await submit(page, 'login');
}

async function enterCode(page: Page, customer: TestCustomer) {
  await page.locator('#code').fill(await oneTimeCode(customer));
  await submit(page, 'otp');
}

interface Variant {
  name: 'en' | 'de';
  /** Chromium's UI language, sent as Accept-Language. */
  browserLocale: string;
  env: Record<string, string>;
}

const VARIANTS: Variant[] = [
  { name: 'en', browserLocale: 'en-GB', env: {} },
  {
    name: 'de',
    browserLocale: 'de-DE',
    env: {
      BANK_NAME: 'Nordwind Bank',
      BANK_LOGO_URL: BANK_LOGO,
      BANK_COLOUR_PRIMARY: '#5a1f6e',
      BANK_SUPPORT_CONTACT: '0800 123 4567',
      BANK_SUPPORT_URL: 'https://bank.example/hilfe',
    },
  },
];

for (const variant of VARIANTS) {
  describe(`every customer page (${variant.name}) at phone and desktop widths: Chromium, axe, layout, translation`, () => {
    let context: BrowserContext;
    const cspViolations: string[] = [];

    const assent = useAssent(variant.env);
    const tpp = useTpp(assent, {
      metadata: { client_name: 'Moneywise Budgeting', logo_uri: TPP_LOGO, client_uri: 'https://tpp.example/' },
    });
    const api = useConsentApi(assent, tpp);
    const browser = useChromium(undefined, variant.browserLocale);
    before(async () => {
      await mkdir(SCREENSHOTS, { recursive: true });
      context = browser.context;
      await context.route(`${tpp.redirectUri}**`, (route) =>
        route.fulfill({
          status: 200,
          contentType: 'text/html',
          body: '<!doctype html><html lang="en"><title>TPP</title><main><h1>Back at the TPP</h1></main></html>',
        }),
      );
      await context.route(TPP_LOGO, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: SVG('#2a7d4f') }));
      await context.route(BANK_LOGO, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: SVG('#5a1f6e') }));
    });

    async function newPage() {
      const page = await context.newPage();
      page.on('console', (message) => {
        if (/Content.Security.Policy|Refused to/i.test(message.text())) cspViolations.push(message.text());
      });
      return page;
    }

    /** The page as it is now, at each width: language, layout, accessibility, screenshot. */
    async function checkPage(page: Page, name: string) {
      const failures: string[] = [];
      assert.equal(await page.locator('html').getAttribute('lang'), variant.name, `${name}: the page is in ${variant.name}`);
      const shown = await page.locator('body').innerText();
      if (shown.includes('⟦')) failures.push(`${name}: untranslated key ${/⟦[^⟧]+⟧/.exec(shown)?.[0]}`);
      if (variant.name !== 'en') {
        for (const fragment of ENGLISH_FRAGMENTS)
          if (shown.includes(fragment)) failures.push(`${name}: English left on the page: "${fragment}"`);
      }
      for (const viewport of WIDTHS) {
        await page.setViewportSize(viewport);
        await page.screenshot({ path: path.join(SCREENSHOTS, `${variant.name}-${name}-${viewport.width}.png`), fullPage: true });
        const layout = await measureLayout(page);
        for (const problem of layout.squeezed) failures.push(`${name} at ${viewport.width}px: squeezed ${problem}`);
        if (layout.pageHeight > layout.heightBudget)
          failures.push(`${name} at ${viewport.width}px: ${layout.pageHeight}px tall, its text warrants ${layout.heightBudget}px`);
        for (const violation of seriousOnly(await axeViolations(page)))
          failures.push(
            `${name} at ${viewport.width}px: axe ${violation.id}: ${violation.help} ${JSON.stringify(violation.nodes.map((node) => node.target))}`,
          );
      }
      assert.deepEqual(failures, [], failures.join('\n'));
    }

    test('authorization pages: sign-in, its error, one-time code, account consent, payment code and payment consent', async () => {
      const { customer } = await customerWithAccounts(assent);
      const page = await newPage();
      const created = await api.call('POST', ACCOUNT_ACCESS, {
        body: accountAccessRequest({ ExpirationDateTime: '2027-02-23T12:00:00Z' }),
      });
      const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
      const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });

      await page.goto(request.url.href);
      await checkPage(page, 'auth-login');
      await signIn(page, customer, 'not the password');
      await page.locator('#password-error').waitFor();
      await checkPage(page, 'auth-login-error');
      await signIn(page, customer);
      await page.locator('#code').waitFor();
      await checkPage(page, 'auth-code');
      await enterCode(page, customer);
      await page.locator('form[action$="/confirm"]').waitFor();
      await checkPage(page, 'auth-consent-accounts');
      assert.match(
        await page.locator('.stop-later').innerText(),
        new RegExp(`${assent.issuer}/dashboard`),
        'the consent page says where to stop sharing later',
      );
      assert.equal(
        await page
          .locator('.stop-later')
          .getByRole('link', { name: `${assent.issuer}/dashboard` })
          .getAttribute('href'),
        `${assent.issuer}/dashboard`,
        'and links to it',
      );
      await submit(page, 'abort');
      await page.waitForURL(`${tpp.redirectUri}**`);

      const payment = await api.call('POST', DOMESTIC_PAYMENT, {
        body: domesticPaymentRequest(),
        headers: { 'x-idempotency-key': crypto.randomUUID() },
      });
      const paymentId = (payment.body as { Data: { ConsentId: string } }).Data.ConsentId;
      const paymentRequest = await pushAuthorizationRequest(tpp, { scope: 'openid payments', claims: intentClaims(paymentId) });
      await page.goto(paymentRequest.url.href);
      await signIn(page, customer);
      await page.locator('#code').waitFor();
      await checkPage(page, 'auth-payment-code');
      await enterCode(page, customer);
      await page.locator('form[action$="/confirm"]').waitFor();
      await checkPage(page, 'auth-consent-payment');
      await page.close();
    });

    test('pages the provider draws: an expired link, a lost sign-in, logout at /session/end and its receipt', async () => {
      const { customer } = await customerWithAccounts(assent);
      const page = await newPage();
      // A link whose pushed request is gone (expired, or used by a finished authorization) is the
      // provider's invalid_request_uri, on Assent's page.
      const expired = new URL((await pushAuthorizationRequest(tpp)).url);
      expired.searchParams.set('request_uri', 'urn:ietf:params:oauth:request_uri:gone');
      const response = await page.goto(expired.href);
      assert.equal(response?.status(), 400);
      assert.equal(await page.locator('.error-code code').innerText(), 'invalid_request_uri');
      assert.ok((await page.locator('[role="alert"]').innerText()).includes('60'), 'the page says how long a link lives');
      assert.equal(
        await page.locator('a.button').getAttribute('href'),
        'https://tpp.example/',
        "the way back is the TPP's registered address",
      );
      await checkPage(page, 'provider-link-used');

      await page.goto(`${assent.issuer}/interaction/${'x'.repeat(21)}`);
      assert.equal(await page.locator('.error-code code').innerText(), 'invalid_request');
      assert.equal(
        await page.locator('a.button').getAttribute('href'),
        `${assent.issuer}/dashboard`,
        'no TPP to return to: the page leads to the dashboard',
      );
      await checkPage(page, 'interaction-lost');

      // Signed in to the provider and the dashboard (the dashboard's sign-in), then logged out through /session/end.
      await page.goto(`${assent.issuer}/dashboard/login`);
      await signIn(page, customer);
      await page.locator('#code').waitFor();
      await enterCode(page, customer);
      await page.waitForURL(`${assent.issuer}/dashboard`);
      await page.goto(`${assent.issuer}/session/end`);
      await page.locator('button[form="op.logoutForm"][value="yes"]').waitFor();
      await checkPage(page, 'logout-confirm');
      await page.locator('button[form="op.logoutForm"][value="yes"]').click();
      await page.locator('[role="status"]').waitFor();
      await checkPage(page, 'logout-done');
      await page.locator(`a.button[href="${assent.issuer}/dashboard"]`).click();
      await page.locator('a.button[href="/dashboard/login"]').waitFor();
      assert.equal(await page.locator('.account-nav').count(), 0, 'the dashboard was signed out too');
      assert.deepEqual(cspViolations, [], 'no CSP violation on any page');
      await page.close();
    });

    test('dashboard pages: home with several providers, detail with its timeline, revoke, receipt, stop sharing, not found', async () => {
      const { customer, current, savings } = await customerWithAccounts(assent);
      const other = await createTestTpp(assent, { metadata: { client_name: 'Pennywise Savings Planner Ltd' } });
      const { consentId } = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current, savings] });
      await grantConsent(assent, tpp, customer, { type: 'domestic_payment', accounts: [current] });
      await grantConsent(assent, other, customer, { type: 'account_access', accounts: [savings] });
      const page = await newPage();

      await page.goto(`${assent.issuer}/dashboard`);
      await checkPage(page, 'dashboard-signed-out');
      await page.locator('a.button[href="/dashboard/login"]').click();
      await signIn(page, customer);
      await page.locator('#code').waitFor();
      await enterCode(page, customer);
      await page.waitForURL(`${assent.issuer}/dashboard`);
      await checkPage(page, 'dashboard-home');
      await page.goto(`${assent.issuer}/dashboard?tab=pending`);
      await page.locator('.empty-state').waitFor();
      await checkPage(page, 'dashboard-pending-empty');

      await page.goto(`${assent.issuer}/dashboard/consents/${consentId}`);
      assert.ok(
        (await page.locator('table.history tbody tr').count()) >= 3,
        'the timeline lists the request, the approval and the first use',
      );
      await checkPage(page, 'dashboard-detail');
      await page.locator(`a[href="/dashboard/consents/${consentId}/revoke"]`).click();
      await checkPage(page, 'dashboard-revoke');
      await submit(page, 'revoke');
      await page.waitForURL(`${assent.issuer}/dashboard/consents/${consentId}/receipt`);
      await checkPage(page, 'dashboard-receipt');
      await page.goto(`${assent.issuer}/dashboard?tab=ended`);
      await checkPage(page, 'dashboard-ended');

      await page.goto(`${assent.issuer}/dashboard/providers/${encodeURIComponent(other.clientId)}/stop`);
      await checkPage(page, 'dashboard-stop-sharing');
      await submit(page, 'stop');
      await page.waitForURL('**/receipt');
      await checkPage(page, 'dashboard-stop-receipt');
      await page.goto(`${assent.issuer}/dashboard/consents/${crypto.randomUUID()}`);
      await checkPage(page, 'dashboard-not-found');
      assert.deepEqual(cspViolations, [], 'no CSP violation on any page');
      await page.close();
    });

    test('decoupled (CIBA) requests: none waiting, a payment waiting, a wrong code', async () => {
      const { customer } = await customerWithAccounts(assent);
      const till = await registerCibaTpp(assent, {}, 'Corner Shop Till');
      const tillApi = await ConsentApiClient.create(assent, till, 'accounts payments');
      const page = await newPage();
      await page.goto(`${assent.issuer}/dashboard/login`);
      await signIn(page, customer);
      await page.locator('#code').waitFor();
      await enterCode(page, customer);
      await page.waitForURL(`${assent.issuer}/dashboard`);
      await page.goto(`${assent.issuer}/dashboard/decoupled`);
      await page.locator('.empty-state').waitFor();
      await checkPage(page, 'decoupled-empty');

      const payment = await tillApi.call('POST', DOMESTIC_PAYMENT, {
        body: domesticPaymentRequest(),
        headers: { 'x-idempotency-key': crypto.randomUUID() },
      });
      const paymentId = (payment.body as { Data: { ConsentId: string } }).Data.ConsentId;
      await initiate(assent, till, {
        scope: 'openid payments',
        login_hint: customer.username,
        binding_message: 'SHOP 3141',
        authorization_details: [{ type: 'payment_initiation', consent_id: paymentId }],
      });
      await page.goto(`${assent.issuer}/dashboard/decoupled`);
      await page.locator('.binding-message strong').getByText('SHOP 3141').waitFor();
      await checkPage(page, 'decoupled-payment');
      await page.locator('input[name="account"]').first().check();
      await page.locator('input[name="code"]').fill('000000');
      await page.locator('form[action$="/approve"] button').click();
      await page.locator('.decoupled-request [role="alert"]').waitFor();
      assert.equal(await page.locator('input[name="account"]').first().isChecked(), true, 'the account picked stays picked');
      await checkPage(page, 'decoupled-wrong-code');
      assert.deepEqual(cspViolations, [], 'no CSP violation on any page');
      await page.close();
    });

    if (variant.name === 'de') {
      test("the bank's branding and the language switch: name, logo, colours and support contact; a choice that sticks", async () => {
        const page = await newPage();
        await page.goto((await pushAuthorizationRequest(tpp)).url.href);
        assert.match(await page.title(), /Nordwind Bank$/);
        assert.equal(await page.locator('img.brand-logo').getAttribute('src'), BANK_LOGO);
        assert.equal(
          await page
            .locator('.banner')
            .evaluate(
              (element) =>
                (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(element)
                  .backgroundColor,
            ),
          'rgb(90, 31, 110)',
        );
        assert.match(await page.locator('footer.support').innerText(), /0800 123 4567/);
        assert.equal(await page.locator('h1').innerText(), 'Bei Nordwind Bank anmelden');
        // The switch: English now, and on the next page too, whatever the browser asks for.
        await page.locator('.languages a[hreflang="en"]').click();
        assert.equal(await page.locator('html').getAttribute('lang'), 'en');
        assert.equal(await page.locator('h1').innerText(), 'Sign in to Nordwind Bank');
        await page.goto(`${assent.issuer}/dashboard`);
        assert.equal(await page.locator('html').getAttribute('lang'), 'en');
        await page.locator('.languages a[hreflang="de"]').click();
        assert.equal(await page.locator('html').getAttribute('lang'), 'de');
        await page.close();
      });
    }
  });
}
