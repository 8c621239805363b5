import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { axeViolations, useChromium, seriousOnly, signInToDashboard } from '../support/browser.ts';
import { ConsentApiClient, DOMESTIC_VRP, domesticVrpRequest } from '../support/consent-api.ts';
import { oneTimeCode } from '../support/customers.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { measureLayout } from '../support/layout.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { createTestTpp, pushAuthorizationRequest } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

const SCREENSHOTS = 'test-results';
const SENTENCE = 'Payments up to £250 a payment, at most £1,000 a calendar month, until 30 June 2027, to ACME Savings.';

async function expectAccessible(page: Page, name: string) {
  await page.screenshot({ path: `${SCREENSHOTS}/vrp-${name}.png`, fullPage: true });
  const serious = seriousOnly(await axeViolations(page));
  assert.deepEqual(serious, [], `${name}: ${JSON.stringify(serious, null, 2)}`);
  // The same layout check as every other page (pages-browser.test.ts): no text squeezed into a sliver.
  const layout = await measureLayout(page);
  assert.deepEqual(layout.squeezed, [], `${name}: squeezed text`);
  assert.ok(layout.pageHeight <= layout.heightBudget, `${name}: ${layout.pageHeight}px tall, its text warrants ${layout.heightBudget}px`);
}

describe('a VRP consent in a real browser (Chromium, phone-sized): code page, consent page, dashboard', () => {
  const assent = useAssent();
  const browser = useChromium();
  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  test("the limits are stated on both pages and the dashboard, each passing axe; the dashboard shows this month's payments", async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const tpp = await createTestTpp(assent, { metadata: { client_name: 'Sweepy' } });
    const api = await ConsentApiClient.create(assent, tpp);
    const created = await api.call('POST', DOMESTIC_VRP, {
      body: domesticVrpRequest({ ValidToDateTime: '2027-06-30T22:59:59Z' }),
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const request = await pushAuthorizationRequest(tpp, {
      scope: 'openid payments',
      authorization_details: JSON.stringify([{ type: 'domestic_vrp', consent_id: consentId }]),
    });

    await browser.context.route(`${tpp.redirectUri}**`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>TPP</title><h1>Back at the TPP</h1>' }),
    );
    const page = await browser.context.newPage();
    await page.goto(request.url.href);
    await page.getByLabel('Username').fill(customer.username);
    await page.getByLabel('Password').fill(customer.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('One-time code').waitFor();
    assert.equal((await page.locator('.vrp-summary').textContent())?.trim(), SENTENCE, 'the code page states what the code approves');
    await expectAccessible(page, 'code');
    await page.getByLabel('One-time code').fill(await oneTimeCode(customer));
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.locator('form[action$="/confirm"]').waitFor();
    assert.equal(
      await page.locator('h1').textContent(),
      'Sweepy wants to make payments from your account whenever needed, within the limits below',
    );
    assert.equal((await page.locator('.vrp-summary').textContent())?.trim(), SENTENCE);
    assert.deepEqual(
      (await page.locator('.vrp-limits li').allTextContents()).map((item) => item.replace(/\s+/g, ' ').trim()),
      [
        'up to £250 a payment',
        'at most £1,000 a calendar month',
        'until 30 June 2027',
        'to ACME Savings (moving money between your own accounts)',
      ],
    );
    await page.getByRole('radio', { name: current.name }).check();
    await expectAccessible(page, 'consent');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${tpp.redirectUri}**`);

    const bank = await TestResourceServer.create(assent);
    const paid = await bank.call('POST', `/bank/vrp-consents/${consentId}/payments`, {
      body: { Data: { InstructedAmount: { Amount: '120.00', Currency: 'GBP' } } },
      headers: { 'x-idempotency-key': crypto.randomUUID() },
    });
    assert.equal(paid.status, 201);

    await signInToDashboard(page, assent.issuer, customer);
    await page.goto(`${assent.issuer}/dashboard/consents/${consentId}`);
    assert.equal((await page.locator('.vrp-summary').textContent())?.trim(), SENTENCE, 'the dashboard states the limits in the same words');
    const row = page.getByRole('row').filter({ hasText: 'This month' });
    assert.deepEqual(
      (await row.locator('td').allTextContents()).map((cell) => cell.trim()),
      ['£120.00', '£880.00', '£1,000.00'],
    );
    await expectAccessible(page, 'dashboard-detail');

    await page.locator('.languages a[hreflang="de"]').click();
    await page.waitForFunction(
      () => (globalThis as unknown as { document: { documentElement: { lang: string } } }).document.documentElement.lang === 'de',
    );
    assert.equal(
      (await page.locator('.vrp-summary').textContent())?.trim().replace(/[\u00a0\u202f]/g, ' '),
      'Zahlungen bis 250 £ je Zahlung, höchstens 1.000 £ pro Kalendermonat, bis 30. Juni 2027, an ACME Savings.',
      'the German dashboard words the same limits',
    );
    assert.ok(!(await page.locator('body').innerText()).includes('⟦'), 'no untranslated key');
    await expectAccessible(page, 'dashboard-detail-de');
  });
});
