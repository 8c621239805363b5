import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { type TestAssent, startTestAssent } from './support/assent.ts';
import { axeViolations, launchChromium, seriousOnly } from './support/browser.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient, DOMESTIC_PAYMENT, domesticPaymentRequest } from './support/consent-api.ts';
import { oneTimeCode } from './support/dashboard.ts';
import { customerWithAccounts, grantConsent, intentClaims } from './support/granted-consents.ts';
import { measureLayout } from './support/layout.ts';
import { createTestTpp, pushAuthorizationRequest, type TestTpp } from './support/tpp.ts';

/**
 * Every customer page, at a phone's and a desktop's width, in Chromium: axe finds no serious
 * violation, no text block is squeezed, the page is no taller than its text warrants, and a
 * screenshot is kept under test-results/pages/.
 */

const SCREENSHOTS = path.resolve('test-results', 'pages');
const WIDTHS = [{ width: 375, height: 812 }, { width: 1280, height: 800 }] as const;
const LOGO = 'https://tpp.example/logo.svg';
const LOGO_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48"><rect width="48" height="48" rx="8" fill="#2a7d4f"/></svg>';

/** The page as it is now, at each width: layout, accessibility, screenshot. */
async function checkPage(page: Page, name: string) {
  const failures: string[] = [];
  for (const viewport of WIDTHS) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-${viewport.width}.png`), fullPage: true });
    const layout = await measureLayout(page);
    for (const problem of layout.squeezed) failures.push(`${name} at ${viewport.width}px: squeezed ${problem}`);
    if (layout.pageHeight > layout.heightBudget) failures.push(`${name} at ${viewport.width}px: ${layout.pageHeight}px tall, its text warrants ${layout.heightBudget}px`);
    for (const violation of seriousOnly(await axeViolations(page))) failures.push(`${name} at ${viewport.width}px: axe ${violation.id}: ${violation.help} ${JSON.stringify(violation.nodes.map((node) => node.target))}`);
  }
  assert.deepEqual(failures, [], failures.join('\n'));
}

async function routeTpp(context: BrowserContext, tpp: TestTpp) {
  await context.route(`${tpp.redirectUri}**`, (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><html lang="en"><title>TPP</title><main><h1>Back at the TPP</h1></main></html>' }));
  await context.route(LOGO, (route) => route.fulfill({ status: 200, contentType: 'image/svg+xml', body: LOGO_SVG }));
}

describe('every customer page at phone and desktop widths (Chromium, axe, layout)', () => {
  let assent: TestAssent;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let tpp: TestTpp;
  let api: ConsentApiClient;
  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    assent = await startTestAssent();
    browser = await launchChromium();
    tpp = await createTestTpp(assent, { metadata: { client_name: 'Moneywise Budgeting', logo_uri: LOGO } });
    api = await ConsentApiClient.create(assent, tpp);
    await routeTpp(browser.context, tpp);
  });
  after(async () => {
    await browser?.close();
    await assent?.stop();
  });

  test('authorization pages: sign-in, its error, one-time code, account consent, payment code and payment consent', async () => {
    const { customer } = await customerWithAccounts(assent);
    const page = await browser.context.newPage();
    const created = await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest({ ExpirationDateTime: '2027-02-23T12:00:00Z' }) });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', claims: intentClaims(consentId) });

    await page.goto(request.url.href);
    await checkPage(page, 'auth-login');
    await page.getByLabel('Username').fill(customer.username);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('#password-error').waitFor();
    await checkPage(page, 'auth-login-error');
    await page.getByLabel('Password').fill(customer.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('One-time code').waitFor();
    await checkPage(page, 'auth-code');
    await page.getByLabel('One-time code').fill(await oneTimeCode(customer));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('form[action$="/confirm"]').waitFor();
    await checkPage(page, 'auth-consent-accounts');
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL(`${tpp.redirectUri}**`);

    const payment = await api.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': crypto.randomUUID() } });
    const paymentId = (payment.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const paymentRequest = await pushAuthorizationRequest(tpp, { scope: 'openid payments', claims: intentClaims(paymentId) });
    await page.goto(paymentRequest.url.href);
    await page.getByLabel('Username').fill(customer.username);
    await page.getByLabel('Password').fill(customer.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('One-time code').waitFor();
    await checkPage(page, 'auth-payment-code');
    await page.getByLabel('One-time code').fill(await oneTimeCode(customer));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('form[action$="/confirm"]').waitFor();
    await checkPage(page, 'auth-consent-payment');
    await page.close();
  });

  test('dashboard pages: home with several providers, detail, revoke, receipt, stop sharing and its receipt', async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const other = await createTestTpp(assent, { metadata: { client_name: 'Pennywise Savings Planner Ltd' } });
    const { consentId } = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current, savings] });
    await grantConsent(assent, tpp, customer, { type: 'domestic_payment', accounts: [current] });
    await grantConsent(assent, other, customer, { type: 'account_access', accounts: [savings] });
    const page = await browser.context.newPage();

    await page.goto(`${assent.issuer}/dashboard`);
    await checkPage(page, 'dashboard-signed-out');
    await page.getByRole('link', { name: 'Sign in to your consents' }).click();
    await page.getByLabel('Username').fill(customer.username);
    await page.getByLabel('Password').fill(customer.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('One-time code').fill(await oneTimeCode(customer));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${assent.issuer}/dashboard`, { timeout: 60_000 }).catch(async (e) => { await page.screenshot({ path: 'test-results/debug.png' }); console.log(page.url(), await page.content()); throw e; });
    await checkPage(page, 'dashboard-home');

    await page.goto(`${assent.issuer}/dashboard/consents/${consentId}`);
    await checkPage(page, 'dashboard-detail');
    await page.getByRole('link', { name: 'Revoke this consent' }).click();
    await checkPage(page, 'dashboard-revoke');
    await page.getByRole('button', { name: 'Yes, revoke access now' }).click();
    await page.waitForURL(`${assent.issuer}/dashboard/consents/${consentId}/receipt`);
    await checkPage(page, 'dashboard-receipt');
    await page.goto(`${assent.issuer}/dashboard?tab=ended`);
    await checkPage(page, 'dashboard-ended');

    await page.goto(`${assent.issuer}/dashboard/providers/${encodeURIComponent(other.clientId)}/stop`);
    await checkPage(page, 'dashboard-stop-sharing');
    await page.getByRole('button', { name: /Yes, stop sharing/ }).click();
    await page.waitForURL(`**/receipt`);
    await checkPage(page, 'dashboard-stop-receipt');
    await page.goto(`${assent.issuer}/dashboard/consents/${crypto.randomUUID()}`);
    await checkPage(page, 'dashboard-not-found');
    await page.close();
  });
});
