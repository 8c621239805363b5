import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { axeViolations, useChromium, seriousOnly, signInToDashboard } from '../support/browser.ts';
import { commercialVrpRequest, ConsentApiClient, DOMESTIC_VRP, domesticVrpRequest } from '../support/consent-api.ts';
import { oneTimeCode, type TestCustomer } from '../support/customers.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { measureLayout } from '../support/layout.ts';
import { createTestTpp, pushAuthorizationRequest, type TestTpp } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

const SCREENSHOTS = 'test-results';

async function expectAccessible(page: Page, name: string) {
  await page.screenshot({ path: `${SCREENSHOTS}/cvrp-${name}.png`, fullPage: true });
  const serious = seriousOnly(await axeViolations(page));
  assert.deepEqual(serious, [], `${name}: ${JSON.stringify(serious, null, 2)}`);
  const layout = await measureLayout(page);
  assert.deepEqual(layout.squeezed, [], `${name}: squeezed text`);
}

describe('commercial and sweeping VRP mandates in a real browser (Chromium, phone-sized)', () => {
  const assent = useAssent();
  const browser = useChromium();
  let tpp: TestTpp;
  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
    tpp = await createTestTpp(assent, { metadata: { client_name: 'Streamy' } });
    await browser.context.route(`${tpp.redirectUri}**`, (route) =>
      route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>TPP</title><h1>Back at the TPP</h1>' }),
    );
  });

  /** Creates the consent and walks the customer to its consent page. */
  async function toConsentPage(body: unknown, customer: TestCustomer) {
    const api = await ConsentApiClient.create(assent, tpp);
    const created = await api.call('POST', DOMESTIC_VRP, { body, headers: { 'x-idempotency-key': crypto.randomUUID() } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const request = await pushAuthorizationRequest(tpp, {
      scope: 'openid payments',
      authorization_details: JSON.stringify([{ type: 'domestic_vrp', consent_id: consentId }]),
    });
    const page = await browser.context.newPage();
    await page.goto(request.url.href);
    await page.getByLabel('Username').fill(customer.username);
    await page.getByLabel('Password').fill(customer.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByLabel('One-time code').fill(await oneTimeCode(customer));
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.locator('form[action$="/confirm"]').waitFor();
    return { consentId, page };
  }

  test('a cVRP names the merchant it pays, on the consent page and on the dashboard', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const { consentId, page } = await toConsentPage(commercialVrpRequest(), customer);
    assert.equal(
      await page.locator('h1').textContent(),
      'Streamy wants to take payments for Acme Streaming from your account when they are due, within the limits below',
    );
    assert.equal(
      (await page.locator('.vrp-payee').textContent())?.replace(/\s+/g, ' ').trim(),
      'to Acme Streaming (a merchant: these payments buy its goods or services)',
    );
    assert.equal(await page.locator('.vrp-presence').textContent(), 'Also when you are not there: you are not asked before each payment.');
    await page.getByRole('radio', { name: current.name }).check();
    await expectAccessible(page, 'consent');
    await page.getByRole('button', { name: 'Approve' }).click();
    await page.waitForURL(`${tpp.redirectUri}**`);

    await signInToDashboard(page, assent.issuer, customer);
    await page.goto(`${assent.issuer}/dashboard/consents/${consentId}`);
    assert.equal(await page.locator('h1').textContent(), 'Streamy: take payments for Acme Streaming');
    await expectAccessible(page, 'dashboard-detail');
  });

  test("sweeping into the customer's own saver: the saver is not offered, and a page made to send it shows the refusal as a styled alert", async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const { page } = await toConsentPage(
      domesticVrpRequest(
        {},
        { CreditorAccount: { SchemeName: savings.schemeName, Identification: savings.identification, Name: 'Saver' } },
      ),
      customer,
    );
    const ending = `Rainy Day Saver (ending ${savings.identification.slice(-4)})`;
    assert.equal(
      await page.locator('.hint.destination').textContent(),
      `${ending} is not offered: it is the account the money is moved into.`,
    );
    assert.equal(await page.getByRole('radio').count(), 1, 'only the current account is offered');
    // As a stale or tampered page would: the one radio now carries the saver's id.
    await page.getByRole('radio', { name: current.name }).check();
    await page.locator('input[name="account"]').evaluate((radio, id) => ((radio as unknown as { value: string }).value = id), savings.id);
    await page.getByRole('button', { name: 'Approve' }).click();

    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(
      await alert.textContent(),
      `${ending} is the account the money is moved into. Sweeping moves money between two of your accounts: choose another account to move it from.`,
    );
    const style = await alert.evaluate((element) => {
      const computed = (globalThis as unknown as { getComputedStyle(e: unknown): { color: string; fontWeight: string } }).getComputedStyle(
        element,
      );
      return { color: computed.color, fontWeight: computed.fontWeight };
    });
    assert.deepEqual(style, { color: 'rgb(164, 0, 15)', fontWeight: '600' }, 'the alert is styled as the pages style errors');
    assert.ok(await page.getByRole('radio', { name: current.name }).isVisible(), 'the customer can still choose the account to sweep from');
    await expectAccessible(page, 'sweep-into-itself');
  });
});
